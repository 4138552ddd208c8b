"""Params profiles: overlays merged into params.yaml, validated before anything is written."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from pipeline import profiles
from pipeline.errors import PipelineError
from pipeline.params import load_params


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    (tmp_path / "profiles" / "tiny.yaml").write_text((ROOT / "profiles" / "tiny.yaml").read_text())
    return tmp_path


def test_parse_assignments_nests_dotted_keys_and_parses_yaml_scalars():
    assert profiles.parse_assignments(["eyes.train_estimator.lr=0.01", "seed=3", "eyes.refine.precision=fp32"]) == \
        {"eyes": {"train_estimator": {"lr": 0.01}, "refine": {"precision": "fp32"}}, "seed": 3}
    with pytest.raises(PipelineError, match="KEY=VALUE"):
        profiles.parse_assignments(["seed"])


def test_apply_tiny_profile_keeps_other_values_and_the_header(repo):
    before = yaml.safe_load((repo / "params.yaml").read_text())
    profiles.apply(repo, "tiny")
    text = (repo / "params.yaml").read_text()
    after = yaml.safe_load(text)
    assert text.startswith("#")
    assert "&id" not in text and "*id" not in text  # the tiny profile shares mappings between domains
    assert after["eyes"]["train_estimator"]["epochs"] == 1
    assert after["hands"]["train_refiner"]["steps"] == after["eyes"]["train_refiner"]["steps"]
    assert after["eyes"]["train_refiner"]["lam"] == before["eyes"]["train_refiner"]["lam"]
    load_params(repo / "params.yaml")  # still valid


def test_apply_is_idempotent_and_leaves_an_unchanged_file_untouched(repo):
    profiles.apply(repo, "tiny")
    first = (repo / "params.yaml").stat().st_mtime_ns, (repo / "params.yaml").read_text()
    profiles.apply(repo, "tiny")
    assert ((repo / "params.yaml").stat().st_mtime_ns, (repo / "params.yaml").read_text()) == first


def test_a_bad_override_names_the_key_and_writes_nothing(repo):
    before = (repo / "params.yaml").read_text()
    with pytest.raises(PipelineError, match=r"eyes\.train_estimator.*lrr"):
        profiles.apply(repo, None, {"eyes": {"train_estimator": {"lrr": 1}}})
    with pytest.raises(PipelineError, match=r"eyes\.train_estimator\.epochs"):
        profiles.apply(repo, None, {"eyes": {"train_estimator": {"epochs": 0}}})
    assert (repo / "params.yaml").read_text() == before


def test_an_unknown_profile_lists_the_known_ones(repo):
    with pytest.raises(PipelineError, match=r"paperz\.yaml.*tiny"):
        profiles.apply(repo, "paperz")


def test_tiny_profile_is_tiny():
    p = load_params(ROOT / "params.yaml", overrides=yaml.safe_load((ROOT / "profiles" / "tiny.yaml").read_text()))
    eyes, hands = p.eyes, p.hands
    assert eyes.simulate.n_synthetic <= 64 and eyes.simulate.n_participants * eyes.simulate.n_per_participant <= 64
    assert hands.simulate.n_synthetic + hands.simulate.n_real_train + hands.simulate.n_real_test <= 128
    for d in (eyes, hands):
        cfg = d.train_refiner
        assert cfg.pretrain_r_steps + cfg.pretrain_d_steps + cfg.steps * (cfg.k_g + cfg.k_d) <= 20
        assert d.train_estimator.epochs == 1 and d.realism.epochs == 1


def test_a_profile_keeps_every_comment_of_params_yaml(tmp_path):
    """`simgan profile` rewrites params.yaml: each key's one-line reason must survive the rewrite."""
    import shutil

    from pipeline import profiles

    root = Path(__file__).resolve().parents[1]
    shutil.copy(root / "params.yaml", tmp_path / "params.yaml")
    shutil.copytree(root / "profiles", tmp_path / "profiles")

    def comments(text: str) -> list[str]:
        return [ln.split("#", 1)[1].strip() for ln in text.splitlines() if "#" in ln]

    before = (tmp_path / "params.yaml").read_text()
    profiles.apply(tmp_path, "tiny")
    after = (tmp_path / "params.yaml").read_text()
    assert after != before and comments(after) == comments(before)
