#!/usr/bin/env bash
# Runs every test: installs system packages if needed, then builds and runs the unit and
# conformance suites in release mode (numeric kernels are 10–100× slower in debug builds).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
swift build -c release --build-tests
swift test -c release --skip-build "$@"
