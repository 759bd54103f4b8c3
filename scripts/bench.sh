#!/usr/bin/env bash
# Runs the benchmarks on every linked backend, then the same workloads in JAX (and PyTorch when
# it can be installed) in a virtualenv, and writes .build/bench/report.md and report.json with
# the two side by side. Pass --quick for tiny sizes (what CI runs); pass --contention KIND
# (busy, syscalls or process) to run both sides again beside that competing work, reported as
# report-KIND.md. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
swift build -c release --product Benchmarks
out=.build/bench
mkdir -p "$out"
# Reports of earlier runs' contention kinds would be set beside this run's quiet figures.
rm -f "$out"/swift-*.json "$out"/swift-*.md "$out"/peers-*.json "$out"/report-*.md "$out"/report-*.json
.build/release/Benchmarks --output "$out" "$@"
if [[ " $* " != *" --quick "* ]]; then
  venv=.build/peers-venv
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q "jax[cpu]" optax
  # PyTorch is optional: its Linux wheels on PyPI pull in CUDA libraries of several GB.
  "$venv/bin/pip" install -q torch 2>/dev/null || echo "PyTorch not installed; the report shows JAX only"
  AXON_BENCH_THREADS="${AXON_BENCH_THREADS:-2}" "$venv/bin/python" Benchmarks/peers/peers.py --output "$out/peers.json"
  # The peers beside the same competing work as the Swift side's contended run.
  kind=""
  for argument in "$@"; do [ "${previous:-}" = "--contention" ] && kind=$argument; previous=$argument; done
  if [ -n "$kind" ]; then
    .build/release/Benchmarks --contender "$kind" > /dev/null 2>&1 &
    contender=$!
    trap 'kill $contender 2>/dev/null || true' EXIT
    sleep 1
    AXON_BENCH_THREADS="${AXON_BENCH_THREADS:-2}" "$venv/bin/python" Benchmarks/peers/peers.py --throughput --output "$out/peers-$kind.json"
    kill "$contender"
  fi
fi
python3 Benchmarks/peers/report.py "$out"
