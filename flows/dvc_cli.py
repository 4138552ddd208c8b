"""Running the `dvc` command line from flows: the one implementation of the DAG's caching.

`repro_stage` runs `dvc --wait-for-lock repro --single-item <stage>`. Why that is safe to run
for independent stages at the same time (checked in DVC 3.67's source and in
tests/test_flows.py):
- DVC releases the repo lock (.dvc/tmp/lock) while a stage's command runs
  (`dvc.stage.decorators.unlocked_repo`) and re-takes it to hash, cache and write dvc.lock;
  dvc.lock is read-modified-written under that lock, so parallel stages do not lose entries.
- Overlapping outputs are still guarded by DVC's per-path read/write lock (.dvc/tmp/rwlock).
- Without `--wait-for-lock`, a second process that finds the repo lock taken gives up after
  ~3 s ("Unable to acquire lock"); with it, it waits its turn for the short locked phases.
`--single-item` because the flow has already ordered the stages; each task checks and runs
exactly its own stage.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline.errors import PipelineError

RAN = re.compile(r"^Running stage '([^']+)'")
SKIPPED = re.compile(r"^Stage '([^']+)' didn't change, skipping")
RESTORED = re.compile(r"^Stage '([^']+)' is cached - skipping run, checking out outputs")
# DVC's advice after each stage (git add, autostage, dvc push): noise in a flow's log
HINT = re.compile(r"^(To track the changes with git|\s*git add |To enable auto staging|\s*dvc config core\.autostage"
                  r"|Use `dvc push`)")


@dataclass(frozen=True)
class StageResult:
    stage: str
    outcome: str        # "ran" | "skipped" (up to date) | "restored" (from DVC's run cache)
    log_tail: str


def dvc_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Stage commands call `python`: make it this interpreter (the project's venv)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(extra or {})
    return env


def dvc(args: list[str], repo: Path, on_line: Callable[[str], None] | None = None,
        env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """Run `dvc ARGS` in `repo`; stream each output line to `on_line`; return (rc, lines)."""
    proc = subprocess.Popen([sys.executable, "-m", "dvc", *args], cwd=repo, env=env or dvc_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines: list[str] = []
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.rstrip("\n").split("\r")[-1].rstrip()  # progress bars: keep their last state
        if line:
            lines.append(line)
            if on_line:
                on_line(line)
    return proc.wait(), lines


def is_hint(line: str) -> bool:
    return bool(HINT.match(line))


def outcome_of(stage: str, lines: list[str]) -> str:
    for line in lines:
        for pattern, outcome in ((RAN, "ran"), (SKIPPED, "skipped"), (RESTORED, "restored")):
            m = pattern.match(line)
            if m and m[1] == stage:
                return outcome
    return "unknown"


def repro_stage(stage: str, repo: Path, on_line: Callable[[str], None] | None = None,
                env: dict[str, str] | None = None) -> StageResult:
    rc, lines = dvc(["--wait-for-lock", "repro", "--single-item", stage], repo, on_line, env)
    tail = "\n".join(lines[-30:])
    if rc != 0:
        raise PipelineError(f"{repo / 'dvc.yaml'}: stage {stage} failed (dvc exit {rc}):\n{tail}")
    return StageResult(stage, outcome_of(stage, lines), tail)


def dag_dot(repo: Path) -> str:
    rc, lines = dvc(["dag", "--dot"], repo)
    if rc != 0:
        raise PipelineError(f"{repo / 'dvc.yaml'}: `dvc dag` failed:\n" + "\n".join(lines[-20:]))
    return "\n".join(lines)


def status(repo: Path, stages: list[str] | None = None) -> dict:
    """`dvc status --json` for `stages` (all when None): {} when everything is up to date."""
    rc, lines = dvc(["status", "--json", *(stages or [])], repo)
    if rc != 0:
        raise PipelineError(f"{repo / 'dvc.yaml'}: `dvc status` failed:\n" + "\n".join(lines[-20:]))
    text = "\n".join(lines)
    start = text.find("{")  # DVC may print warnings before the JSON
    return json.loads(text[start:]) if start >= 0 else {}
