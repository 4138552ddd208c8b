#!/usr/bin/env bash
# The test suite (unit, stage, end-to-end with real dvc/MLflow/Prefect, browser).
# Under CI=1 (.ci/run) a skipped test fails the run, so a missing browser cannot pass unnoticed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The study page is tested in Debian's Chromium (never a browser download); install it when we may.
if command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then
  :
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser test (apt-get) ..."
  if ! (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null); then
    echo "WARNING: apt-get could not install chromium: the browser test will skip (and fail under CI=1)" >&2
  fi
else
  echo "WARNING: chromium is not installed and cannot be installed here (needs root and apt-get):" >&2
  echo "  run 'apt-get install -y --no-install-recommends chromium' as root; until then the browser" >&2
  echo "  test skips (and fails under CI=1)" >&2
fi
export PATH="$PWD/.venv/bin:$PATH"
set +e
# Two workers: the end-to-end modules are chains of one-core subprocesses (a dvc stage each), so a
# second worker nearly halves the wall time on two cores (BENCHMARKS.md, "Test suite"). Each test
# module stays on one worker (its module fixtures run once); PYTEST_WORKERS=0 runs in one process.
pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi
exit "$rc"
