"""The refine shard tasks on a Dask cluster, through a Prefect flow with prefect-dask's DaskTaskRunner.

The tasks are the same `run_job` the local pool runs, so a cluster run writes the same bytes.
Workers need the project importable and the data paths visible (a shared filesystem). A task
that fails on bad data returns its error (the stage reports all of them); a lost worker or
other crash is retried by Prefect.

Without a Prefect server configured (PREFECT_API_URL), Prefect runs a temporary one inside the
flow's process, and each Dask worker would start one of its own (30 s and more each, all on one
database). We start the temporary server first and put its URL into the settings that Prefect
ships with every task, so the workers report to the flow's server.
"""
from __future__ import annotations

import contextlib
import os

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect_dask import DaskTaskRunner

from pipeline.refine.shard import ShardReport
from pipeline.refine.jobs import ShardJob, run_job


@task(name="refine-shard", retries=1, cache_policy=NO_CACHE, task_run_name="refine {job.dst}")
def refine_shard_task(job: ShardJob) -> ShardReport:
    return run_job(job)


@flow(name="refine-shards", log_prints=True)
def refine_shards(jobs: list[ShardJob]) -> list[ShardReport]:
    futures = [refine_shard_task.submit(j) for j in jobs]
    return [f.result() for f in futures]


# A first start migrates the sqlite DB: on a busy 2-core machine that exceeds Prefect's 20 s default
STARTUP_TIMEOUT_ENV, STARTUP_TIMEOUT_DEFAULT_S = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", 180


def startup_timeout_s() -> int:
    """The server's startup wait, read from the environment now: Prefect reads its own settings
    once per process, so a value set after `import prefect` (a test, `simgan`) would go unseen."""
    return int(os.environ.get(STARTUP_TIMEOUT_ENV, STARTUP_TIMEOUT_DEFAULT_S))


@contextlib.contextmanager
def prefect_api():
    """A context in which PREFECT_API_URL names a running server (the temporary one if none is set).
    A temporary server started here is stopped here: left to Prefect's atexit hook, it would log
    to streams the interpreter has already closed."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the same singleton Prefect's own client would start
    started_here = not server.running
    server.start(timeout=startup_timeout_s())
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield
    finally:
        if started_here:
            server.stop()


def run_jobs_on_dask(jobs: list[ShardJob], address: str) -> list[ShardReport]:
    """Run `jobs` on the Dask scheduler at `address` (e.g. tcp://127.0.0.1:8786), results in job order."""
    runner = DaskTaskRunner(address=address)
    with prefect_api():
        return refine_shards.with_options(task_runner=runner)(jobs)
