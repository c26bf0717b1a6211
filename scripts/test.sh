#!/usr/bin/env bash
# Sets up the host and runs the whole test suite (unit, integration, e2e); the last line is
# "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec node scripts/run-tests.mjs "$@"
