"""dvc.yaml's outputs and pipeline/paths.py (what the stages and the report write and read) agree."""
from pathlib import Path

from dvc.repo import Repo

from pipeline import paths

ROOT = Path(__file__).resolve().parents[1]


def dvc_outputs() -> dict[str, list[str]]:
    with Repo(str(ROOT)) as repo:
        return {s.addressing: sorted(o.def_path for o in s.outs) for s in repo.index.stages}


def test_dvc_yaml_outs_are_the_paths_module_s():
    listed = dvc_outputs()
    assert sorted(listed) == sorted(paths.all_stages())
    wrong = {s: (outs, sorted(paths.stage_outputs(s))) for s, outs in listed.items()
             if outs != sorted(paths.stage_outputs(s))}
    assert not wrong, f"dvc.yaml outs (left) differ from pipeline/paths.py (right): {wrong}"


def test_unknown_stage_is_an_error():
    import pytest
    with pytest.raises(KeyError):
        paths.stage_outputs("nope@eyes")
