"""MLflow model registry: versions of the pipeline's models and their aliases.

- `refiner-<domain>`: train_refiner registers one version per training run. Here it gets
  `@champion` when its downstream evaluation (the estimator trained on its refined data,
  measured on the real test split) beats the current champion's.
- `estimator-<domain>`: one version per distinct checkpoint (sha256), from the train_estimator
  run that logged it; `@<data>` (synthetic | refined | real_train) points at the newest of each
  training set, `@champion` at the best on the evaluation.
A version keeps its score as the tag `eval.<metric>`, so later comparisons need no re-run.
Runs carry the git commit and DVC data versions through pipeline.tracking.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from pipeline import paths
from pipeline.files import read_json
from pipeline.tracking import file_sha256

CHAMPION = "champion"
# the paper's headline measures (SimGAN Tables 2 and 4); both higher = better
PRIMARY_METRIC = {"eyes": ("pct_within_7deg", True), "hands": ("pct_joints_within_5px", True)}
ESTIMATOR_DATA = ("synthetic", "refined", "real_train")


def tracking_uri(repo: Path) -> str:
    """The store the stages in `repo` write to: pipeline.tracking's rule, rooted at `repo`."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path(repo).resolve() / 'mlflow.db'}"


def client(repo: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri(repo))


def is_better(candidate: float, incumbent: float | None, higher_is_better: bool) -> bool:
    if incumbent is None:
        return True
    return candidate > incumbent if higher_is_better else candidate < incumbent


def evaluation_score(repo: Path, domain: str, data: str) -> float | None:
    """The primary metric of metrics/evaluate-<domain>-<data>.json, None when not evaluated."""
    path = Path(repo) / "metrics" / f"evaluate-{domain}-{data}.json"
    if not path.exists():
        return None
    return float(json.loads(path.read_text())[PRIMARY_METRIC[domain][0]])


def champion(mlflow_client, name: str):
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def promote_if_better(mlflow_client, name: str, version: str, score: float, metric: str,
                      higher_is_better: bool) -> bool:
    """Tag `version` with its score; move @champion to it if it beats the champion. True if champion."""
    tag = f"eval.{metric}"
    mlflow_client.set_model_version_tag(name, version, tag, repr(score))
    current = champion(mlflow_client, name)
    if current is not None and str(current.version) == str(version):
        return True
    incumbent = float(current.tags[tag]) if current is not None and tag in current.tags else None
    if is_better(score, incumbent, higher_is_better):
        mlflow_client.set_registered_model_alias(name, CHAMPION, version)
        return True
    return False


def refiner_version(mlflow_client, repo: Path, domain: str):
    """The registered version of models/refiner-<domain>.pt (matched by its MLflow run id)."""
    path, lineage = paths.refiner(domain, repo), paths.lineage(f"train_refiner-{domain}", repo)
    if not path.exists() or not lineage.exists():
        return None
    record = read_json(lineage)
    if record.get("refiner_sha256") != file_sha256(path):  # the lineage of another refiner file
        return None
    run_id = record.get("mlflow_run_id", "")
    found = mlflow_client.search_model_versions(f"name = 'refiner-{domain}' and run_id = '{run_id}'")
    return found[0] if run_id and found else None


def register_estimator(mlflow_client, repo: Path, domain: str, data: str):
    """A version of estimator-<domain> for models/estimator-<domain>-<data>.pt (reused if registered)."""
    path = Path(repo) / "models" / f"estimator-{domain}-{data}.pt"
    if not path.exists():
        return None
    name, sha = f"estimator-{domain}", file_sha256(path)
    if mlflow_client.get_experiment_by_name("train_estimator") is None:
        return None
    if mlflow_client.search_registered_models(f"name = '{name}'"):
        found = mlflow_client.search_model_versions(f"name = '{name}' and tag.sha256 = '{sha}'")
        if found:
            return found[0]
    else:
        mlflow_client.create_registered_model(name, description=f"{domain} estimators (gaze / hand pose)")
    exp = mlflow_client.get_experiment_by_name("train_estimator").experiment_id
    base = f"tags.domain = '{domain}' and tags.training_data = '{data}'"
    runs = (mlflow_client.search_runs([exp], f"{base} and tags.model_sha256 = '{sha}'", max_results=1)
            or mlflow_client.search_runs([exp], base, order_by=["attributes.start_time DESC"], max_results=1))
    if not runs:
        return None
    run = runs[0]
    version = mlflow_client.create_model_version(name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id,
                                                 tags={"sha256": sha, "training_data": data})
    mlflow_client.set_registered_model_alias(name, data, version.version)
    return version


def register_pipeline_models(repo: Path, domains: list[str]) -> list[str]:
    """Register/promote the models the pipeline produced in `repo`; one line per model."""
    mlflow_client, lines = client(repo), []
    for domain in domains:
        metric, higher = PRIMARY_METRIC[domain]
        candidates = [(f"refiner-{domain}", refiner_version(mlflow_client, repo, domain), "refined")]
        candidates += [(f"estimator-{domain}", register_estimator(mlflow_client, repo, domain, data), data)
                       for data in ESTIMATOR_DATA]
        for name, version, data in candidates:
            score = evaluation_score(repo, domain, data)
            if version is None:
                lines.append(f"{name} ({data}): not registered (no model or MLflow run yet)")
                continue
            if score is None:
                lines.append(f"{name} v{version.version} ({data}): no evaluation yet")
                continue
            won = promote_if_better(mlflow_client, name, version.version, score, metric, higher)
            lines.append(f"{name} v{version.version} ({data}): {metric}={score:.4g}"
                         + (f" @{CHAMPION}" if won else ""))
    return lines
