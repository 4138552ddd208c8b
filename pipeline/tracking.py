"""MLflow in one place: one tracking store (sqlite at the repo root unless MLFLOW_TRACKING_URI
is set), runs tagged with the git commit and the DVC data versions they read."""
from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from pathlib import Path

from pipeline.files import json_text

ROOT = Path(__file__).resolve().parent.parent


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{ROOT / 'mlflow.db'}"


def git_commit(cwd: Path = ROOT) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def data_version(split_dir: str | Path) -> str:
    """A checksum of a split's contents: the names and bytes of its shards, manifest and dataset.json
    (sizes alone miss a changed pixel; a split is read in full by every stage that uses it anyway)."""
    d = Path(split_dir)
    h = hashlib.sha256()
    for p in sorted(d.glob("*")):
        if p.is_file() and (p.suffix == ".tar" or p.name in ("dataset.json", "manifest.parquet")):
            h.update(p.name.encode() + b"\0" + file_sha256(p).encode() + b"\n")
    return h.hexdigest()[:16]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def start_run(experiment: str, run_name: str, data: dict[str, str | Path] | None = None,
              tags: dict | None = None):
    """An MLflow run in `experiment` tagged with git commit and data versions of `data` splits."""
    import mlflow  # imported late: ~1 s, and stages that do not track should not pay it

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(tracking_uri())
    mlflow.set_experiment(experiment)
    all_tags = {"git_commit": git_commit(), **(tags or {})}
    if os.environ.get("SIMGAN_FLOW_RUN_ID"):  # set by the Prefect flow, which links its runs
        all_tags["simgan.flow_run_id"] = os.environ["SIMGAN_FLOW_RUN_ID"]
    for name, split_dir in (data or {}).items():
        all_tags[f"data.{name}"] = data_version(split_dir)
    with mlflow.start_run(run_name=run_name, tags=all_tags) as run:
        yield run


def log_json(obj: dict, artifact_file: str) -> None:
    import mlflow

    mlflow.log_text(json_text(obj), artifact_file)
