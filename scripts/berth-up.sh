#!/usr/bin/env bash
# Berth's main job on this host: sets it up, starts berthd (embedded Postgres, BERTH_DIR=/var/lib/berth
# unless set) if it is not running, builds the debian-12 image from images/debian-12 (debootstrap,
# cached), launches the system container `c1` from it, and shows systemd running inside.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export BERTH_DIR="${BERTH_DIR:-/var/lib/berth}"
mkdir -p "$BERTH_DIR"
berth() { node dist/apps/berth/src/main.js "$@"; }
if ! berth info >/dev/null 2>&1; then
  nohup node dist/apps/berthd/src/main.js >>"$BERTH_DIR/berthd.log" 2>&1 &
  for _ in $(seq 1 600); do
    berth info >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
berth info
berth image info debian/12 >/dev/null 2>&1 || berth image build images/debian-12 --alias debian/12
if ! berth list --format csv | grep -q '^c1,'; then
  berth launch debian/12 c1
elif ! berth list --format csv | grep -q '^c1,\(RUNNING\|READY\),'; then
  berth start c1
fi
for _ in $(seq 1 50); do  # DHCP on berthbr0 takes a moment after READY=1
  berth list --format csv | grep -q '^c1,[A-Z]*,[0-9]' && break
  sleep 0.2
done
berth list
echo "+ berth exec c1 -- systemctl is-system-running --wait"
berth exec c1 -- systemctl is-system-running --wait
echo "berthd log: $BERTH_DIR/berthd.log; try: npx berth exec c1 -- ps -ef"
