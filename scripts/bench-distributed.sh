#!/usr/bin/env bash
# Data-parallel training on this machine two ways — one process with two threads, and two
# processes with one thread each under mpirun — with the all-reduce bandwidth for 1–64 MB and
# the share of each step spent communicating (axon bench-distributed). Pass --quick for tiny
# sizes. Not a test; docs/distributed.md keeps the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
swift build -c release --product axon
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI runs as root
backend=${AXON_BACKEND:-onednn}
echo "## 1 process × 2 threads (batch 128)"
mpirun --oversubscribe --bind-to none -np 1 .build/release/axon bench-distributed --backend "$backend" --threads 2 --batch-size 128 "$@"
echo
echo "## 2 processes × 1 thread (batch 64 each)"
mpirun --oversubscribe -np 2 .build/release/axon bench-distributed --backend "$backend" --threads 1 --batch-size 64 "$@"
