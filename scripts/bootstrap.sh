#!/usr/bin/env bash
# Create or reuse .venv and install the project from its own files (pyproject.toml pinned by
# constraints.txt). Re-installs only when those files change. Used by run.sh, test.sh and the Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -c constraints.txt -e '.[test]'
  rm -f .venv/.installed-*; touch "$stamp"
fi
