#!/usr/bin/env bash
# Runs every test: installs system packages and the interop tests' Python environment
# (scripts/interop-venv.sh) if needed, then builds and runs the unit and conformance suites in
# release mode (numeric kernels are 10–100× slower in debug builds), with the plugin build
# (scripts/build-plugins.sh) that the run-time plugin tests load, then the out-of-tree example
# backend's own tests (Examples/CountingBackend).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
scripts/interop-venv.sh > /dev/null
swift build -c release --build-tests
scripts/build-plugins.sh > /dev/null
swift test -c release --skip-build "$@"
if [[ $# -eq 0 ]]; then
    swift test -c release --package-path Examples/CountingBackend --scratch-path .build/counting-backend
fi
