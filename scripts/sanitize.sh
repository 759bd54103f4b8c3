#!/usr/bin/env bash
# Runs the unit and conformance tests under AddressSanitizer (with LeakSanitizer), and the
# concurrency tests under ThreadSanitizer, each from its own instrumented build folder.
#
#   scripts/sanitize.sh [address|thread]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(address thread)
scripts/install-system-packages.sh
status=0
for kind in "${kinds[@]}"; do
  case "$kind" in
    address)
      # The suites that spawn the `axon` executable (TrainCommandTests) run it uninstrumented
      # from the ordinary build folder, so they are left to scripts/test.sh.
      filter=(--skip TrainCommandTests)
      export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1"
      export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizer-suppressions/leak.supp:print_suppressions=0"
      ;;
    thread)
      filter=(--filter ConcurrencyTests)
      export TSAN_OPTIONS="halt_on_error=1:suppressions=$PWD/scripts/sanitizer-suppressions/thread.supp"
      ;;
    *) echo "unknown sanitizer '$kind' (address or thread)" >&2; exit 64 ;;
  esac
  echo "== $kind sanitizer"
  swift build -c release --build-tests --sanitize="$kind" --scratch-path ".build-$kind"
  if ! swift test -c release --skip-build --sanitize="$kind" --scratch-path ".build-$kind" "${filter[@]}"; then status=1; fi
done
exit $status
