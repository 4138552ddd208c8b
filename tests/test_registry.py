"""MLflow registry helpers against a real sqlite store: versions, per-data aliases, @champion."""
from __future__ import annotations

import json

import mlflow
import pytest
import torch

from pipeline import paths, registry
from pipeline.files import write_json
from pipeline.tracking import file_sha256


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        root = tmp_path_factory.mktemp("registry")
        (root / "models").mkdir()
        (root / "metrics").mkdir()
        mlflow.set_tracking_uri(registry.tracking_uri(root))
        yield root
        mlflow.set_tracking_uri(None)


def train_refiner_run(repo, domain: str, score: float) -> str:
    """What train_refiner leaves: a run with a registered refiner-<domain> version, the checkpoint
    naming the run, and the downstream evaluation of the estimator trained on its refined data."""
    mlflow.set_experiment("train_refiner")
    with mlflow.start_run() as run:
        mlflow.log_text("weights", "refiner/model.pkl")
    client = registry.client(repo)
    if not client.search_registered_models(f"name = 'refiner-{domain}'"):
        client.create_registered_model(f"refiner-{domain}")
    client.create_model_version(f"refiner-{domain}", f"runs:/{run.info.run_id}/refiner", run_id=run.info.run_id)
    torch.save({"state_dict": {}}, repo / "models" / f"refiner-{domain}.pt")
    write_json(paths.lineage(f"train_refiner-{domain}", repo),
               {"mlflow_run_id": run.info.run_id, "refiner_sha256": file_sha256(repo / "models" / f"refiner-{domain}.pt")})
    (repo / "metrics" / f"evaluate-{domain}-refined.json").write_text(json.dumps({"pct_within_7deg": score}))
    return run.info.run_id


def test_is_better():
    assert registry.is_better(1.0, None, True)
    assert registry.is_better(2.0, 1.0, True) and not registry.is_better(1.0, 1.0, True)
    assert registry.is_better(1.0, 2.0, False)


def test_champion_moves_only_to_a_better_refiner(repo):
    train_refiner_run(repo, "eyes", 50.0)
    assert registry.register_pipeline_models(repo, ["eyes"])[0] == "refiner-eyes v1 (refined): pct_within_7deg=50 @champion"
    train_refiner_run(repo, "eyes", 40.0)
    assert registry.register_pipeline_models(repo, ["eyes"])[0] == "refiner-eyes v2 (refined): pct_within_7deg=40"
    train_refiner_run(repo, "eyes", 60.0)
    registry.register_pipeline_models(repo, ["eyes"])
    champion = registry.champion(registry.client(repo), "refiner-eyes")
    assert str(champion.version) == "3" and champion.tags["eval.pct_within_7deg"] == "60.0"


def test_estimators_get_one_version_per_checkpoint_and_a_data_alias(repo):
    mlflow.set_experiment("train_estimator")
    path = repo / "models" / "estimator-eyes-synthetic.pt"
    path.write_bytes(b"estimator weights v1")
    with mlflow.start_run(tags={"domain": "eyes", "training_data": "synthetic"}):
        mlflow.log_artifact(str(path), "model")
    (repo / "metrics" / "evaluate-eyes-synthetic.json").write_text(json.dumps({"pct_within_7deg": 30.0}))
    client = registry.client(repo)
    first = registry.register_estimator(client, repo, "eyes", "synthetic")
    again = registry.register_estimator(client, repo, "eyes", "synthetic")
    assert str(first.version) == str(again.version)  # same checkpoint, same version
    assert str(client.get_model_version_by_alias("estimator-eyes", "synthetic").version) == str(first.version)
    assert first.source.endswith("/model") and first.tags["training_data"] == "synthetic"
    lines = registry.register_pipeline_models(repo, ["eyes"])
    assert any(line.startswith("estimator-eyes v1 (synthetic): pct_within_7deg=30 @champion") for line in lines)
    assert any("real_train" in line and "not registered" in line for line in lines)
