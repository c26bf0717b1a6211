#!/usr/bin/env bash
# Sets up the host with the packages Berth needs and those only the tests use, then runs the
# whole test suite (unit, integration, e2e); the last line is "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh scripts/apt-packages scripts/apt-packages-test
exec node scripts/run-tests.mjs "$@"
