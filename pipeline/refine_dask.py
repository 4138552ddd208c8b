"""The refine shard tasks on a Dask cluster, through a Prefect flow with prefect-dask's DaskTaskRunner.

The tasks are the same `run_job` the local pool runs, so a cluster run writes the same bytes.
Workers need the project importable and the data paths visible (a shared filesystem). A task
that fails on bad data returns its error (the stage reports all of them); a lost worker or
other crash is retried by Prefect.
"""
from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect_dask import DaskTaskRunner

from pipeline.refine import ShardReport
from pipeline.refine_split import ShardJob, run_job


@task(name="refine-shard", retries=1, cache_policy=NO_CACHE, task_run_name="refine {job.dst}")
def refine_shard_task(job: ShardJob) -> ShardReport:
    return run_job(job)


@flow(name="refine-shards", log_prints=True)
def refine_shards(jobs: list[ShardJob]) -> list[ShardReport]:
    futures = [refine_shard_task.submit(j) for j in jobs]
    return [f.result() for f in futures]


def run_jobs_on_dask(jobs: list[ShardJob], address: str) -> list[ShardReport]:
    """Run `jobs` on the Dask scheduler at `address` (e.g. tcp://127.0.0.1:8786), results in job order."""
    runner = DaskTaskRunner(address=address)
    return refine_shards.with_options(task_runner=runner)(jobs)
