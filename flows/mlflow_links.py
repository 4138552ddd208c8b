"""MLflow from the flow's side: create the store before stages share it, and link the runs
a flow run produced.

Stages tag their runs through `pipeline.tracking`; the flow passes its id to them in the
environment (SIMGAN_FLOW_RUN_ID). Runs carrying that tag are the flow's; when none do (a
store written by stages that ignore the variable), the runs started after the flow began are.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.registry import tracking_uri

FLOW_RUN_ENV = "SIMGAN_FLOW_RUN_ID"
FLOW_RUN_TAG = "simgan.flow_run_id"


@dataclass(frozen=True)
class RunLink:
    experiment: str
    run_name: str
    run_id: str
    url: str


def ui_url() -> str:
    return os.environ.get("MLFLOW_UI_URL", "http://127.0.0.1:5000").rstrip("/")


def ensure_store(repo: Path) -> bool:
    """Create the default sqlite store if missing; True if created. Stages running side by side
    would otherwise both migrate a new mlflow.db and one fails ("duplicate column name")."""
    uri = tracking_uri(repo)
    if not uri.startswith("sqlite:///") or Path(uri.removeprefix("sqlite:///")).exists():
        return False
    from mlflow.tracking import MlflowClient

    MlflowClient(tracking_uri=uri).search_experiments()  # runs the schema migrations once
    return True


def runs_of_flow(repo: Path, flow_run_id: str, started_ms: int) -> list[RunLink]:
    uri = tracking_uri(repo)
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        return []  # no stage tracked anything yet; do not create an empty store
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiments = {e.experiment_id: e.name for e in client.search_experiments()}
    if not experiments:
        return []
    ids = list(experiments)
    runs = client.search_runs(ids, f"tags.`{FLOW_RUN_TAG}` = '{flow_run_id}'", max_results=500)
    if not runs:
        runs = client.search_runs(ids, f"attributes.start_time >= {started_ms}", max_results=500)
    return sorted((RunLink(experiments[r.info.experiment_id], r.info.run_name or "", r.info.run_id,
                           f"{ui_url()}/#/experiments/{r.info.experiment_id}/runs/{r.info.run_id}")
                   for r in runs), key=lambda link: (link.experiment, link.run_name))


def markdown_table(links: list[RunLink]) -> str:
    rows = [f"| {ln.experiment} | [{ln.run_name or ln.run_id}]({ln.url}) | `{ln.run_id}` |" for ln in links]
    return "\n".join(["| experiment | run | run id |", "|---|---|---|", *rows])
