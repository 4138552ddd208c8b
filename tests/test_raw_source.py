"""simulate@<domain> never deletes what it did not write; bad dataset paths are ParamsErrors naming the key."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import byo_fixtures as fx
from pipeline.params import ParamsError, load_params
from pipeline.raw_source import check_folders, generated_dir, raw_dirs
from stages import simulate as simulate_stage

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A working folder laid out as the repository (the stage works relative to it)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    monkeypatch.chdir(repo)
    return repo


def sim(**kw):
    return argparse.Namespace(**{"source": "folders", "synthetic_dir": "", "real_dir": ""} | kw)


@pytest.mark.parametrize("key", ["synthetic_dir", "real_dir"])
def test_an_empty_path_is_a_params_error_naming_the_key(repo, tmp_path, key):
    other = fx.write_crops(tmp_path / "crops")
    p = sim(**{"synthetic_dir": str(other), "real_dir": str(other), key: ""})
    with pytest.raises(ParamsError, match=rf"eyes\.simulate\.{key}: empty"):
        check_folders("eyes", p, repo)


def test_a_missing_folder_is_a_params_error_naming_the_key(repo, tmp_path):
    p = sim(synthetic_dir=str(fx.write_crops(tmp_path / "c")), real_dir=str(tmp_path / "nowhere"))
    with pytest.raises(ParamsError, match=r"hands\.simulate\.real_dir: .* does not exist"):
        check_folders("hands", p, repo)


@pytest.mark.parametrize("path", [".", "data", "data/raw/eyes", "data/raw/eyes/generated",
                                  "data/raw/eyes/generated/real", "data/shards/eyes", "models", "reports/x", ".."])
def test_a_path_overlapping_the_pipeline_outputs_is_a_params_error(repo, tmp_path, path):
    (repo / path).mkdir(parents=True, exist_ok=True)
    p = sim(synthetic_dir=str(fx.write_crops(tmp_path / "c")), real_dir=path)
    with pytest.raises(ParamsError, match=r"eyes\.simulate\.real_dir: .*(overlaps the pipeline's output|holds this repository)"):
        check_folders("eyes", p, repo)


def test_a_dataset_beside_generated_is_accepted(repo):
    fx.write_mpiigaze(repo / "data" / "raw" / "eyes" / "mpiigaze", participants=("p00",), days=1, n=1)
    fx.write_unityeyes(repo / "data" / "raw" / "eyes" / "unityeyes", 1)
    p = sim(synthetic_dir="data/raw/eyes/unityeyes", real_dir="data/raw/eyes/mpiigaze")
    assert check_folders("eyes", p, repo) == {"synthetic_dir": (repo / "data/raw/eyes/unityeyes").resolve(),
                                               "real_dir": (repo / "data/raw/eyes/mpiigaze").resolve()}


def run_stage(domain: str, overrides: dict) -> None:
    params = load_params("params.yaml", overrides)
    simulate_stage.run(argparse.Namespace(domain=domain, params="params.yaml"), params)


def test_simulate_keeps_every_dataset_byte_in_both_modes(repo, tmp_path):
    """Datasets under data/raw/eyes/ and outside the repo survive folders mode, then generate mode."""
    inside = fx.write_mpiigaze(repo / "data" / "raw" / "eyes" / "mpiigaze", participants=("p00", "p01"), days=1, n=2)
    outside = fx.write_unityeyes(tmp_path / "elsewhere" / "unityeyes", 3)
    before = {"inside": fx.tree_digest(inside), "outside": fx.tree_digest(outside)}
    folders = {"eyes": {"simulate": {"source": "folders", "synthetic_dir": str(outside),
                                     "real_dir": "data/raw/eyes/mpiigaze"}}}
    run_stage("eyes", folders)
    source = json.loads((generated_dir("eyes") / "source.json").read_text())
    assert source["real"]["path"] == str(inside.resolve()) and source["synthetic"]["path"] == str(outside.resolve())
    assert raw_dirs(generated_dir("eyes")) == (outside.resolve(), inside.resolve())
    run_stage("eyes", folders)  # a rerun replaces only its own record
    tiny = {"eyes": {"simulate": {"source": "generate", "n_synthetic": 4, "n_participants": 2,
                                  "n_per_participant": 2, "workers": 1}}}
    run_stage("eyes", tiny)
    assert sorted(p.name for p in generated_dir("eyes").iterdir()) == ["real", "synthetic"]
    run_stage("eyes", folders)
    assert not (generated_dir("eyes") / "synthetic").exists()  # its own generated folders went
    assert {"inside": fx.tree_digest(inside), "outside": fx.tree_digest(outside)} == before


def test_simulate_refuses_before_touching_anything(repo, tmp_path):
    """A path overlapping simulate's own folder fails before the folder is emptied."""
    mine = generated_dir("eyes")
    fx.write_crops(mine / "real")
    before = fx.tree_digest(mine)
    bad = {"eyes": {"simulate": {"source": "folders", "synthetic_dir": str(fx.write_unityeyes(tmp_path / "u", 1)),
                                 "real_dir": "data/raw/eyes/generated/real"}}}
    with pytest.raises(ParamsError, match="eyes.simulate.real_dir"):
        run_stage("eyes", bad)
    assert fx.tree_digest(mine) == before
