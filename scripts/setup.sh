#!/usr/bin/env bash
# Prepares a Debian 12 host (as root) to build and run Berth: system packages, npm dependencies,
# the native part and the TypeScript build. Safe to run again.
#
#   scripts/setup.sh [PACKAGE-LIST...]
#
# installs the Debian packages of each list (one name a line, `#` starts a comment); by default
# scripts/apt-packages, what Berth needs. scripts/test.sh adds scripts/apt-packages-test.
set -euo pipefail
cd "$(dirname "$0")/.."
lists=("$@")
[ ${#lists[@]} -gt 0 ] || lists=(scripts/apt-packages)
for list in "${lists[@]}"; do
  [ -r "$list" ] || { echo "setup: cannot read the package list $list" >&2; exit 1; }
done

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (Berth manages namespaces, cgroups and a system user for Postgres)" >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  echo "setup: Node.js >= 20.19 is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

mapfile -t packages < <(sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "${lists[@]}")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Every container's systemd (and its services) takes inotify instances from the host's per-user
# pool; the kernel's default of 128 runs out after a handful of containers ("Failed to create
# control group inotify object: Too many open files"). LXD's production settings raise them too.
# The pid table: the kernel's default of 32768 is what a host without systemd keeps (systemd
# raises it to 4194304 on 64-bit hosts); Berth's pids admission allows a share of it to containers.
for limit in fs.inotify.max_user_instances=1048576 fs.inotify.max_user_watches=1048576 kernel.pid_max=4194304; do
  key=${limit%%=*}
  want=${limit#*=}
  [ "$(sysctl -n "$key")" -ge "$want" ] || sysctl -qw "$limit"
done

npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
