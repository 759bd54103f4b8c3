#!/usr/bin/env bash
# Runs every test: installs system packages and the interop tests' Python environment
# (scripts/interop-venv.sh) if needed, then builds and runs the unit and conformance suites in
# release mode (numeric kernels are 10–100× slower in debug builds).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
scripts/interop-venv.sh > /dev/null
swift build -c release --build-tests
swift test -c release --skip-build "$@"
