"""train_estimator -> evaluate -> realism -> report through the stage CLIs on tiny eye shards,
with a real MLflow sqlite store (no mocks)."""
from __future__ import annotations

import json

import pytest
import yaml

from support.samples import write_domain
from pipeline.errors import PipelineError
from pipeline.params import load_params
from pipeline.stagecli import stage_parser
from stages import evaluate, realism, report, train_estimator

PARAMS = {"eyes": {"train_estimator": {"epochs": 2, "batch_size": 16, "max_samples": 48, "width": 4},
                   "realism": {"epochs": 1, "max_samples": 40, "width": 4, "kid_subsets": 4, "kid_subset_size": 8}}}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("repo")
    write_domain(root / "data", "eyes", n=64)
    (root / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    mp = pytest.MonkeyPatch()
    mp.chdir(root)
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    params = load_params("params.yaml")
    for data in ("synthetic", "refined", "real_train"):
        train_estimator.run(train_estimator.parser().parse_args(["eyes", data]), params)
    yield root, params
    mp.undo()


def test_train_writes_model_and_curve_and_evaluate_is_deterministic(workdir):
    root, params = workdir
    for data in ("synthetic", "refined", "real_train"):
        assert (root / f"models/estimator-eyes-{data}.pt").exists()
        assert (root / f"plots/train_estimator-eyes-{data}.csv").read_text().startswith("epoch,step,train_loss,lr")
    args = evaluate.parser().parse_args(["eyes", "refined"])
    evaluate.run(args, params)
    first = (root / "metrics/evaluate-eyes-refined.json").read_bytes()
    evaluate.run(args, params)
    assert (root / "metrics/evaluate-eyes-refined.json").read_bytes() == first
    doc = json.loads(first)
    assert doc["split"] == "real_test" and doc["n"] == 32 and doc["val"]["split"] == "real_val" and doc["val"]["n"] == 32
    for m in (doc, doc["val"]):  # every headline figure with its bootstrap interval around it
        for key in ("mean_angular_error_deg", "pct_within_7deg"):
            lo, hi = m["ci95"][key]
            assert lo < m[key] < hi or lo == m[key] == hi
    samples = (root / "plots/evaluate-eyes-refined-samples.csv").read_text().splitlines()
    assert samples[0] == "split,key,error_deg,within_7deg" and len(samples) == 1 + 32 + 32
    errors = [float(r.split(",")[2]) for r in samples[1:] if r.startswith("real_test")]
    assert abs(sum(errors) / len(errors) - doc["mean_angular_error_deg"]) < 1e-4
    curve = (root / "plots/evaluate-eyes-refined.csv").read_text().splitlines()
    assert curve[0] == "threshold_deg,pct_within" and len(curve) == 22


def test_several_estimator_seeds_give_a_mean_and_sd(workdir, tmp_path):
    """train_estimator.seeds = 3: one checkpoint, three seeds; evaluate reports seed 0's figures (with
    their interval) and the seeds' mean, sd and interval, which differ from seed 0 alone, and writes
    each seed's per-sample columns for the report's paired ratio of the seeds' means."""
    root, _ = workdir
    params = load_params("params.yaml", overrides={"eyes": {"train_estimator": {"seeds": 3}}})
    train_estimator.run(train_estimator.parser().parse_args(["eyes", "real_train"]), params)
    evaluate.run(evaluate.parser().parse_args(["eyes", "real_train"]), params)
    doc = json.loads((root / "metrics/evaluate-eyes-real_train.json").read_text())
    seeds = doc["seeds"]["mean_angular_error_deg"]
    assert doc["seeds"]["n"] == 3 and doc["val"]["seeds"]["n"] == 3
    assert seeds["sd"] > 0 and seeds["mean"] != doc["mean_angular_error_deg"]
    assert seeds["ci95"][0] < seeds["mean"] < seeds["ci95"][1]
    header = (root / "plots/evaluate-eyes-real_train-samples.csv").read_text().splitlines()[0]
    assert header == "split,key,error_deg,within_7deg," + ",".join(
        f"{c}@seed{s}" for s in (1, 2) for c in ("error_deg", "within_7deg"))
    train_estimator.run(train_estimator.parser().parse_args(["eyes", "real_train"]), load_params("params.yaml"))


def test_same_inputs_give_a_byte_identical_model(workdir):
    root, params = workdir
    before = (root / "models/estimator-eyes-synthetic.pt").read_bytes()
    train_estimator.run(train_estimator.parser().parse_args(["eyes", "synthetic"]), params)
    assert (root / "models/estimator-eyes-synthetic.pt").read_bytes() == before


def test_evaluate_refuses_unlabelled_split_and_wrong_model(workdir):
    root, params = workdir
    with pytest.raises(PipelineError, match="carry no labels"):
        evaluate.run(evaluate.parser().parse_args(["eyes", "synthetic", "--split", "data/shards/eyes/real_train"]), params)
    import torch
    ckpt = torch.load(root / "models/estimator-eyes-synthetic.pt", weights_only=True)
    torch.save({**ckpt, "config": {**ckpt["config"], "domain": "hands"}}, root / "wrong-domain.pt")
    with pytest.raises(PipelineError, match="domain 'hands'"):
        evaluate.run(evaluate.parser().parse_args(["eyes", "synthetic", "--model", "wrong-domain.pt"]), params)
    torch.save({**ckpt, "config": {**ckpt["config"], "height": 36, "width_px": 60}}, root / "wrong-shape.pt")
    with pytest.raises(PipelineError, match="expects 36x60"):
        evaluate.run(evaluate.parser().parse_args(["eyes", "synthetic", "--model", "wrong-shape.pt"]), params)
    (root / "garbage.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(PipelineError, match="not an estimator checkpoint"):
        evaluate.run(evaluate.parser().parse_args(["eyes", "synthetic", "--model", "garbage.pt"]), params)


def test_realism_and_report(workdir):
    root, params = workdir
    for data in ("synthetic", "refined", "real_train"):
        evaluate.run(evaluate.parser().parse_args(["eyes", data]), params)
    realism.run(stage_parser("").parse_args(["eyes"]), params)
    doc = json.loads((root / "metrics/realism-eyes.json").read_text())
    for data in ("synthetic", "refined"):
        assert 0 <= doc["c2st"][data]["accuracy"] <= 1 and 0 <= doc["c2st"][data]["p_value"] <= 1
        assert doc["kid"][data]["mean"] == doc["kid"][data]["mean"]  # not NaN
    report.run(None, params)
    text = (root / "reports/report.md").read_text()
    assert "87.2 (4x data)" in text and "| gaze (eyes) | % within 7 deg |" in text
    for png in ("evaluate-eyes.png", "train_estimator.png", "realism.png", "samples-eyes.png", "realism-eyes-features.png"):
        assert (root / "reports/figures/results" / png).stat().st_size > 1000, png
        assert f"figures/results/{png}" in text
    assert "n/a" in text  # hands outputs are missing: shown, not fatal



def test_hands_train_and_evaluate(workdir):
    root, _ = workdir
    write_domain(root / "data", "hands", n=48)
    params = load_params("params.yaml", overrides={"hands": PARAMS["eyes"]})
    train_estimator.run(train_estimator.parser().parse_args(["hands", "real_train"]), params)
    evaluate.run(evaluate.parser().parse_args(["hands", "real_train"]), params)
    doc = json.loads((root / "metrics/evaluate-hands-real_train.json").read_text())
    assert doc["joints"] == 14 and doc["n"] == 24 and doc["mean_joint_error_mm"] > 0
    assert 0 <= doc["pct_joints_within_5px"] <= 100
    curve = (root / "plots/evaluate-hands-real_train.csv").read_text().splitlines()
    assert curve[0] == "threshold_mm,pct_within,pct_frames_worst_within" and curve[-1].startswith("80.0,")
    with pytest.raises(PipelineError, match="a model for domain 'hands', asked to evaluate 'eyes'"):
        evaluate.run(evaluate.parser().parse_args(["eyes", "synthetic", "--model", "models/estimator-hands-real_train.pt"]), params)
