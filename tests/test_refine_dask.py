"""refine on a Dask cluster through Prefect's DaskTaskRunner: the same shards as the local run.

The one real Prefect run of the refine tests (its ephemeral API server takes 10-20 s to start).
"""
from __future__ import annotations

import pytest

from test_refine import folder_bytes, make_project, run_stage
from support.params import write_params

pytestmark = pytest.mark.slow


@pytest.fixture
def prefect_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "WARNING")
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # a busy CI machine


def test_dask_cluster_run_writes_the_local_run_shards(tmp_path, prefect_home):
    from distributed import LocalCluster

    _, data = make_project(tmp_path, n=48, shard_size=8)  # 6 shard tasks
    run_stage(tmp_path)
    local = folder_bytes(data / "refined")
    (data / "refined").rename(tmp_path / "local-refined")

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        params = write_params(tmp_path / "params.yaml", "eyes", train_refiner={"channels": 4, "blocks": 1},
                              refine={"dask_address": cluster.scheduler_address})
        m = run_stage(tmp_path, params=params)
        workers = len(cluster.scheduler_info["workers"])
    assert workers == 2
    assert m["shards_refined"] == 6 and m["samples"] == 48
    assert folder_bytes(data / "refined") == local
