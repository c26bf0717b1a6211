#!/usr/bin/env bash
# Prepares a Debian 12 host (as root) to build and run Berth: system packages, npm dependencies,
# the native part and the TypeScript build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (Berth manages namespaces, cgroups and a system user for Postgres)" >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  echo "setup: Node.js >= 20.19 is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

mapfile -t packages < <(grep -v '^\s*#' scripts/apt-packages | grep -v '^\s*$')
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
for limit in fs.inotify.max_user_instances=1048576 fs.inotify.max_user_watches=1048576; do
  key=${limit%%=*}
  want=${limit#*=}
  [ "$(sysctl -n "$key")" -ge "$want" ] || sysctl -qw "$limit"
done

npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
