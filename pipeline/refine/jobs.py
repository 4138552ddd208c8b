"""Shard tasks: one synthetic shard -> one refined shard, run where the workers are.

A `ShardJob` holds only paths and values, so it pickles to a spawned local process or a Dask
worker alike, and `run_job` is the same function in both places: the same bytes come out.
Each process loads the refiner once and keeps it for its next shards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from pipeline.device import memory_format, pick_device
from pipeline.errors import PipelineError
from pipeline.params import Params
from pipeline.refine.shard import ShardReport, refine_shard, verify_shard


@dataclass(frozen=True)
class ShardJob:
    """Everything a worker (local process or Dask) needs for one shard: plain paths and values."""
    src: str
    dst: str
    domain: str
    model: str
    params: Params
    refined_by: dict = field(hash=False)
    threads: int = 1


_refiners: dict[tuple[str, str], torch.nn.Module] = {}  # per process: load R once, not per shard


def cached_refiner(job: ShardJob) -> torch.nn.Module:
    from pipeline.simgan.io import load_refiner

    key = (job.model, job.refined_by["refiner_sha256"])
    if key not in _refiners:
        refiner, _ = load_refiner(job.model, job.domain, job.params)
        device = pick_device()
        _refiners.clear()
        _refiners[key] = refiner.to(device, memory_format=memory_format(device)).eval()
    return _refiners[key]


def run_job(job: ShardJob) -> ShardReport:
    """Keep the shard if an earlier run finished it, else refine it. Errors come back as data."""
    torch.set_num_threads(job.threads)
    try:
        kept = verify_shard(job.src, job.dst, domain=job.domain, refined_by=job.refined_by)
        if kept is not None:
            return kept
        cfg = job.params.domain(job.domain).refine
        return refine_shard(cached_refiner(job), job.src, job.dst, domain=job.domain, refined_by=job.refined_by,
                            batch_size=cfg.batch_size, precision=cfg.precision)
    except PipelineError as e:
        return ShardReport(Path(job.dst).name, error=str(e))


def run_jobs_local(jobs: list[ShardJob], workers: int) -> list[ShardReport]:
    """Jobs in `workers` spawned processes (in this process for one), results in job order."""
    workers = min(workers, len(jobs))
    if workers <= 1:
        threads = torch.get_num_threads()
        try:
            return [run_job(j) for j in jobs]
        finally:  # leave the caller's process as it was
            torch.set_num_threads(threads)
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(workers) as pool:
        return pool.map(run_job, jobs, chunksize=1)
