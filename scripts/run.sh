#!/usr/bin/env bash
# The main job: installs system packages if needed, builds in release mode and runs `axon`
# with any arguments given (none: the default job on the best available backend).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
swift build -c release --product axon
exec .build/release/axon "$@"
