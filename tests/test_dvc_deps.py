"""Every stage's dvc.yaml deps cover the code it runs, so an edit to that code makes `dvc status` see it.

The import closure (pipeline/codehash.py) starts at the stage's `python -m stages.<name>` module and
follows every import inside this repository (top-level and in functions, plus the packages'
__init__.py files); `importlib.import_module(f"pkg.{...}")` counts as the whole package `pkg`.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from dvc.repo import Repo

from pipeline.codehash import import_closure as closure

ROOT = Path(__file__).resolve().parents[1]


def stage_module(cmd: str) -> str:
    words = shlex.split(cmd)
    assert words[:2] == ["python", "-m"], f"stage command not `python -m stages.<name>`: {cmd}"
    return words[2]


def missing_deps() -> dict[str, list[str]]:
    out = {}
    with Repo(str(ROOT)) as repo:
        for stage in repo.index.stages:
            deps = [d.def_path.rstrip("/") for d in stage.deps]
            reached = sorted(p.relative_to(ROOT).as_posix() for p in closure(stage_module(stage.cmd)))
            missing = [f for f in reached if not any(f == d or f.startswith(d + "/") for d in deps)]
            if missing:
                out[stage.addressing] = missing
    return out


def test_closure_follows_function_level_and_dynamic_imports():
    reached = {p.relative_to(ROOT).as_posix() for p in closure("stages.ingest")}
    assert {"pipeline/ingest/eyes.py", "pipeline/ingest/hands.py", "pipeline/params.py",
            "pipeline/__init__.py", "pipeline/ingest/__init__.py"} <= reached


def test_every_stage_depends_on_the_code_it_runs():
    missing = missing_deps()
    lines = [f"{stage}: {', '.join(files)}" for stage, files in missing.items()]
    assert not missing, ("code a stage runs is not in its dvc.yaml deps (an edit to it would leave the "
                         "outputs stale):\n" + "\n".join(lines))


def _stages_reaching(rel: str) -> set[str]:
    """Stage names whose import closure reaches repo file `rel` (independent of dvc.yaml's deps)."""
    with Repo(str(ROOT)) as repo:
        return {s.addressing for s in repo.index.stages
                if ROOT / rel in closure(stage_module(s.cmd))}


def test_an_edit_to_a_module_makes_exactly_its_stages_and_their_downstream_stale(tmp_path):
    """In a temp copy whose dvc.lock matches the tree, editing pipeline/refine/jobs.py makes `dvc status`
    report the stages that run it and no other; as each stale stage is rerun (its outputs get new bytes,
    as new code would write), exactly the stages downstream of it follow, and nothing else. Outputs are
    stand-ins: this is about the deps, not the data."""
    import subprocess

    from conftest import copy_worktree, tool_env
    from pipeline import paths

    repo = copy_worktree(ROOT, tmp_path / "repo")
    for stage in paths.all_stages():
        for out in paths.stage_outputs(stage):
            p = repo / out
            if p.suffix:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(f"stand-in for {stage}\n")
            else:
                p.mkdir(parents=True, exist_ok=True)
                (p / "stand-in").write_text(stage)
    env = tool_env()
    dvc = [str(Path(env["PATH"].split(":")[0]) / "dvc")]
    subprocess.run(dvc + ["commit", "-f", "-q"], cwd=repo, env=env, check=True, capture_output=True)

    def stale() -> set[str]:
        out = subprocess.run(dvc + ["status", "--json"], cwd=repo, env=env, check=True,
                             capture_output=True, text=True).stdout
        import json
        return set(json.loads(out))

    assert stale() == set()
    edited = "pipeline/refine/jobs.py"
    with open(repo / edited, "a") as f:
        f.write("\n# an edit\n")
    expected = _stages_reaching(edited)
    assert expected == {"refine@eyes", "refine@hands"}
    assert stale() == expected

    reran: set[str] = set()
    while now := stale():  # (report goes stale again when its second input changes: dvc repro runs it once, last)
        for stage in sorted(now):  # what a rerun does: new output bytes, recorded in dvc.lock
            for out in paths.stage_outputs(stage):
                p = repo / out
                (p / "stand-in" if p.is_dir() else p).write_text(f"rerun of {stage}\n")
        subprocess.run(dvc + ["commit", "-f", "-q", *sorted(now)], cwd=repo, env=env, check=True,
                       capture_output=True)
        reran |= now
    assert reran == {"refine@eyes", "refine@hands", "train_estimator@eyes-refined", "train_estimator@hands-refined",
                     "evaluate@eyes-refined", "evaluate@hands-refined", "realism@eyes", "realism@hands", "report"}
