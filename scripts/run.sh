#!/usr/bin/env bash
# The main job: `dvc repro` of the whole pipeline on the embedded default data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
dvc repro "$@"
simgan metrics   # the compact results table (all numbers: dvc metrics show)
