"""Bring your own data, end to end: real `dvc repro` through the report on datasets in the real
formats (tests/byo_fixtures.py), pointed at by params.yaml with `source: folders`.

- labelled: a UnityEyes folder + an MPIIGaze root (inside the repo, beside simulate's own folder,
  so DVC's and simulate's deletions are both put to the test), NYU synthdepth frames + NYU
  train/ + test/ outside the repo. Every stage runs; counts add up; no input byte changes.
- unlabelled: a Kaggle gaze.h5 + a plain folder of crops grouped by person, NYU synthdepth + a
  train/ without joint_data.mat and no test/. The refined datasets are published; the estimator
  and evaluate stages record {"skipped": "no labelled real test split"}; the report says so.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import byo_fixtures as fx
from conftest import make_tiny_repo
from pipeline.estimate.skip import NO_LABELLED_TEST
from pipeline.params import DOMAINS
from test_e2e import dvc

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
SPLITS = ("synthetic", "real_train", "real_holdout", "real_val", "real_test")
REAL = SPLITS[1:]
ESTIMATOR_DATA = ("synthetic", "refined", "real_train")


def point_params(repo: Path, eyes: tuple[str, str], hands: tuple[str, str], hands_ingest: dict | None = None,
                 **ingest) -> None:
    doc = yaml.safe_load((repo / "params.yaml").read_text())
    for domain, (syn, real) in (("eyes", eyes), ("hands", hands)):
        doc[domain]["simulate"].update(source="folders", synthetic_dir=syn, real_dir=real)
    doc["eyes"]["ingest"].update(ingest)
    doc["hands"]["ingest"].update(hands_ingest or {})
    (repo / "params.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def split_counts(repo: Path, domain: str) -> dict[str, dict]:
    return {s: json.loads((repo / "data/shards" / domain / s / "dataset.json").read_text())["counts"] for s in SPLITS}


def refined_count(repo: Path, domain: str) -> int:
    return json.loads((repo / "data/shards" / domain / "refined" / "dataset.json").read_text())["counts"]["written"]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    base = tmp_path_factory.mktemp("byo-labelled")
    repo = make_tiny_repo(base / "repo")
    data = base / "datasets"  # outside the repo
    inputs = {"unityeyes": fx.write_unityeyes(data / "unityeyes", 12),
              "mpiigaze": fx.write_mpiigaze(repo / "data/raw/eyes/mpiigaze", days=2, n=6),
              "nyu_synth": fx.write_nyu_split(data / "nyu_synth", 24, seed=3, prefix="synthdepth"),
              "nyu": fx.write_nyu(data / "nyu", n_train=20, n_test=16)}
    before = {k: fx.tree_digest(p) for k, p in inputs.items()}
    point_params(repo, (str(inputs["unityeyes"]), "data/raw/eyes/mpiigaze"),
                 (str(inputs["nyu_synth"]), str(inputs["nyu"])), test_participants=["p00"], val_participants=["p03"],
                 hands_ingest={"val_sequences": [2]})  # 20 train frames in sequences of 8: 0..2, the last is real_val
    out = dvc(repo, "repro")
    return repo, inputs, before, out


def test_labelled_folders_run_every_stage_and_count_every_input(labelled):
    repo, inputs, before, _ = labelled
    eyes, hands = split_counts(repo, "eyes"), split_counts(repo, "hands")
    for counts in (*eyes.values(), *hands.values()):
        assert counts["in"] == counts["written"] + counts["rejected"]
    assert eyes["synthetic"]["in"] == 12
    assert sum(eyes[s]["in"] for s in REAL) == 4 * 2 * 6 * 2  # people x days x frames x eyes
    assert eyes["real_test"]["in"] == 2 * 6 * 2                # p00 only
    assert hands["synthetic"]["in"] == 24 and hands["real_test"]["in"] == 16
    assert sum(hands[s]["in"] for s in ("real_train", "real_holdout", "real_val")) == 20
    assert hands["real_val"]["in"] == 4  # frames 17-20
    for domain in DOMAINS:
        assert refined_count(repo, domain) == split_counts(repo, domain)["synthetic"]["written"]
        for data in ESTIMATOR_DATA:
            doc = json.loads((repo / f"metrics/evaluate-{domain}-{data}.json").read_text())
            assert "skipped" not in doc and doc["split"] == "real_test"
    assert NO_LABELLED_TEST not in (repo / "reports/report.md").read_text()


def test_labelled_folders_are_left_byte_for_byte(labelled):
    repo, inputs, before, _ = labelled
    assert {k: fx.tree_digest(p) for k, p in inputs.items()} == before
    again = dvc(repo, "repro")  # a second run changes nothing, the datasets included
    assert "Running stage" not in again
    assert {k: fx.tree_digest(p) for k, p in inputs.items()} == before


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory):
    base = tmp_path_factory.mktemp("byo-unlabelled")
    repo = make_tiny_repo(base / "repo")
    data = base / "datasets"
    gaze, _ = fx.write_kaggle_pair(data / "kaggle", n=40, n_real=4)
    inputs = {"gaze_h5": gaze,
              "crops": fx.write_crops(data / "crops", groups=[f"person{k:02d}" for k in range(10)], per_group=4),
              "nyu_synth": fx.write_nyu_split(data / "nyu_synth", 24, seed=3, prefix="synthdepth"),
              "nyu": fx.write_nyu(data / "nyu", n_train=20, train_labels=False, test=False)}
    before = {k: fx.tree_digest(p) for k, p in inputs.items()}
    point_params(repo, (str(gaze), str(inputs["crops"])), (str(inputs["nyu_synth"]), str(inputs["nyu"])))
    out = dvc(repo, "repro")
    return repo, inputs, before, out


def test_unlabelled_real_data_still_publishes_a_refined_dataset(unlabelled):
    repo, inputs, before, _ = unlabelled
    for domain in DOMAINS:
        counts = split_counts(repo, domain)
        assert all(c["in"] == c["written"] + c["rejected"] for c in counts.values())
        assert refined_count(repo, domain) == counts["synthetic"]["written"] > 0
        assert (repo / "models" / f"refiner-{domain}.pt").exists()
    eyes = split_counts(repo, "eyes")
    assert sum(eyes[s]["in"] for s in REAL) == 40 and eyes["real_test"]["written"] > 0
    assert split_counts(repo, "hands")["real_test"]["in"] == 0
    assert {k: fx.tree_digest(p) for k, p in inputs.items()} == before


def test_unlabelled_estimators_and_evaluations_record_that_they_skipped(unlabelled):
    repo, *_ , out = unlabelled
    for domain in DOMAINS:
        for data in ESTIMATOR_DATA:
            doc = json.loads((repo / f"metrics/evaluate-{domain}-{data}.json").read_text())
            assert doc == {"domain": domain, "training_data": data, "skipped": NO_LABELLED_TEST}
            assert f"train_estimator@{domain}-{data}: skipped ({NO_LABELLED_TEST})" in out
    realism = {d: json.loads((repo / f"metrics/realism-{d}.json").read_text()) for d in DOMAINS}
    for domain in DOMAINS:  # the C2ST needs no labels; KID needs the oracle's features
        assert 0.0 <= realism[domain]["c2st"]["refined"]["accuracy"] <= 1.0 and realism[domain]["kid"] == {}


def test_unlabelled_report_says_in_words_what_was_skipped(unlabelled):
    repo = unlabelled[0]
    report = (repo / "reports/report.md").read_text()
    assert "## Skipped" in report
    for domain in DOMAINS:
        assert f"- **{domain}**: evaluate@{domain}-real_train, evaluate@{domain}-refined, " in report
        assert f"the refined dataset is published in `data/shards/{domain}/refined/`" in report
        assert f"- **{domain}**: KID was not computed (" in report
    assert "realism was judged by the classifier two-sample test alone" in report
