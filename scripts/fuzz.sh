#!/usr/bin/env bash
# Fuzzes every file format the library reads with libFuzzer under AddressSanitizer.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 60 s each; targets idx checkpoint casefile npy npz safetensors onnx)
#
# Builds an instrumented axon-fuzz in .build-fuzz, grows each target's corpus in
# .build-fuzz/corpus/TARGET from Fuzz/Seeds/TARGET, and writes any crashing input to
# Fuzz/Regressions/TARGET/: commit it after the fix, and the test suite replays it for good.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(idx checkpoint casefile npy npz safetensors onnx)

scripts/install-system-packages.sh
swift build -c release --product axon-fuzz --scratch-path .build-fuzz --disable-default-traits \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
status=0
for target in "${targets[@]}"; do
  mkdir -p ".build-fuzz/corpus/$target" "Fuzz/Regressions/$target"
  log=".build-fuzz/fuzz-$target.log"
  if AXON_FUZZ_TARGET="$target" LSAN_OPTIONS="suppressions=Fuzz/lsan-suppressions.txt" .build-fuzz/release/axon-fuzz ".build-fuzz/corpus/$target" "Fuzz/Seeds/$target" \
      -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 -artifact_prefix="Fuzz/Regressions/$target/" \
      -print_final_stats=1 > "$log" 2>&1; then
    outcome="no crash"
  else
    outcome="CRASH: see $log and Fuzz/Regressions/$target/"
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
  echo "$target: ${seconds} s, ${runs:-?} inputs, peak RSS ${rss:-?} MB, corpus $(ls ".build-fuzz/corpus/$target" | wc -l) files: $outcome"
done
exit $status
