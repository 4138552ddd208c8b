"""Serve `simgan-pipeline` on a cron schedule against a running Prefect server.

    simgan server &                        # prefect server start --host 127.0.0.1 (PREFECT_HOME=.state/prefect)
    simgan serve --cron "0 3 * * *"        # creates deployment simgan-pipeline/scheduled and runs its flow runs

The serving process is the worker: it polls the server and runs each scheduled (or manually
triggered) flow run in a subprocess. `limit=1`: two runs of the pipeline in one workspace
would only queue on DVC's lock. Teams with a server and work pools deploy with prefect.yaml
instead (`prefect deploy --all`).
"""
from __future__ import annotations

import os

import httpx

from pipeline.errors import PipelineError

DEPLOYMENT = "scheduled"


def check_server(api_url: str, timeout: float = 5.0) -> None:
    try:
        httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).raise_for_status()
    except httpx.HTTPError as e:
        raise PipelineError(f"no Prefect server at {api_url} ({e}); start one with `simgan server`") from None


def serve_flow(name: str = DEPLOYMENT, cron: str = "0 3 * * *", parameters: dict | None = None) -> None:
    """Create/update the scheduled deployment and run its flow runs until interrupted."""
    check_server(os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api"))
    from flows.pipeline_flow import simgan_pipeline

    simgan_pipeline.serve(name=name, cron=cron, parameters=parameters or {}, limit=1, tags=["simgan"],
                          description="SimGAN pipeline (dvc repro per stage) on a schedule")
