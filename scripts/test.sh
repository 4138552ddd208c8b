#!/usr/bin/env bash
# The test suite (unit, stage, end-to-end with real dvc/MLflow/Prefect, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The study page is tested in Debian's Chromium (never a browser download); install it when we may.
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null) || echo "chromium not installed: the browser test will skip"
fi
export PATH="$PWD/.venv/bin:$PATH"
set +e
pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi
exit "$rc"
