#!/usr/bin/env bash
# Re-run every benchmark (figures for BENCHMARKS.md). Run on a quiet machine: each figure is
# a ratio to a limit measured in the same run, but absolute rates depend on the load.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
out=${1:-bench/results}
mkdir -p "$out"
# which CPU gave the figures: the sessions' VMs differ (AMX or not), and so do the peaks
{ lscpu | grep -E "^Model name"; echo "bf16 units: $(grep -o -E 'amx_bf16|avx512_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"; \
  nproc; python -c "import torch; print('torch', torch.__version__)"; git rev-parse --short HEAD; } | tee "$out/machine.txt"
python -m bench.ingest --domain eyes          | tee "$out/ingest-eyes.txt"
python -m bench.ingest --domain hands         | tee "$out/ingest-hands.txt"
python -m bench.simulate_hands --frames 500   | tee "$out/simulate-hands.txt"
python -m bench.simgan eyes                   | tee "$out/simgan-eyes.txt"
python -m bench.simgan hands                  | tee "$out/simgan-hands.txt"
python -m bench.refine eyes                   | tee "$out/refine-eyes.txt"
python -m bench.refine hands                  | tee "$out/refine-hands.txt"
python -m bench.estimate                      | tee "$out/estimate.txt"
