#!/usr/bin/env bash
# Sets up the host, starts berthd (embedded Postgres, BERTH_DIR=/var/lib/berth unless set) in the
# background if it is not already running, and shows the server with `berth info`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export BERTH_DIR="${BERTH_DIR:-/var/lib/berth}"
mkdir -p "$BERTH_DIR"
if ! npx --no-install berth info >/dev/null 2>&1; then
  nohup npx --no-install berthd >>"$BERTH_DIR/berthd.log" 2>&1 &
  for _ in $(seq 1 600); do
    [ -S "$BERTH_DIR/unix.socket" ] && npx --no-install berth info >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
npx --no-install berth info
echo "berthd is running (log: $BERTH_DIR/berthd.log); try: npx berth profile list"
