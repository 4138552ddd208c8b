"""Shared fixtures: a temp git copy of this repository on the tiny profile, a private PREFECT_HOME.

The copy is what a fresh clone would hold plus the uncommitted work (tracked files and
untracked files git does not ignore), so the end-to-end tests run the tree under test.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.ci import pytest_runtest_makereport  # noqa: F401  (CI: a skip fails the run)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# The modules that each run whole tiny pipelines (minutes of mostly one-core work each). Collected
# first, so that under `pytest -n 2 --dist loadfile --no-loadscope-reorder` (scripts/test.sh) each
# starts at once on its own worker while the other tests fill in around them.
LONG_POLES = ("test_e2e.py", "test_byo_e2e.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONG_POLES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for `dvc`/`simgan` subprocesses: this venv first on PATH."""
    env = {**os.environ, "PATH": os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])}
    env.pop("MLFLOW_TRACKING_URI", None)  # each copy keeps its own sqlite store
    env.update(extra)
    return env


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def copy_worktree(src: Path, dest: Path) -> Path:
    """Copy the files `git` would see in `src` (tracked + untracked-not-ignored) into a new repo."""
    listed = git(src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for rel in filter(None, listed):
        path = src / rel
        if path.is_file():  # listed but deleted in the work tree: skip
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / rel)
    git(dest, "init", "-q")
    git(dest, "-c", "user.email=t@t", "-c", "user.name=t", "add", "-A")
    git(dest, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "copy")
    return dest


def make_tiny_repo(dest: Path) -> Path:
    """A git copy of this repo with profiles/tiny.yaml merged into params.yaml (and committed)."""
    from pipeline import profiles

    dest.mkdir(parents=True, exist_ok=True)
    copy_worktree(ROOT, dest)
    profiles.apply(dest, "tiny")
    git(dest, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "tiny profile")
    return dest


def clone_repo(src: Path, dest: Path) -> Path:
    """A `git clone` of a repo made by make_tiny_repo: the same sources, however the live work
    tree (which other people edit) has moved on since."""
    subprocess.run(["git", "clone", "-q", str(src), str(dest)], check=True, capture_output=True)
    return dest


@pytest.fixture
def tiny_repo(tmp_path) -> Path:
    return make_tiny_repo(tmp_path / "repo")


@pytest.fixture
def prefect_home(tmp_path, monkeypatch) -> Path:
    """A private PREFECT_HOME (Prefect's sqlite DB, settings) for subprocesses started by the test."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return home
