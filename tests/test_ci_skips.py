"""Under CI=1 a skip fails the run (.ci/run sets CI=1); outside CI it stays a skip."""
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def run_pytest(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_one.py").write_text("import pytest\n\n\ndef test_needs_a_browser():\n"
                                         "    pytest.skip('chromium not found')\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"} | ({"CI": ci} if ci is not None else {})
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "support.ci", "-p", "no:cacheprovider",
                           str(tmp_path / "test_one.py")], cwd=tmp_path, env=env, capture_output=True, text=True)


def test_a_skip_fails_under_ci(tmp_path):
    done = run_pytest(tmp_path, "1")
    assert done.returncode == 1, done.stdout
    assert "skipped under CI" in done.stdout and "chromium not found" in done.stdout


def test_a_skip_is_a_skip_elsewhere(tmp_path):
    assert run_pytest(tmp_path, None).returncode == 0
    assert run_pytest(tmp_path, "0").returncode == 0
