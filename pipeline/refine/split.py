"""Refine a whole split: one task per synthetic shard, in local worker processes or on Dask.

Shard i of `synthetic/` becomes shard i of `refined/`. Every task is independent and written
atomically, so a rerun after a kill redoes only the missing shards: a progress file written
before any shard records the run's fingerprint (refiner checksum, input data version, the code, the
params that change the bytes), and an earlier shard is kept only under the same fingerprint
and after it reads back with the synthetic keys and metas. The index (manifest.parquet,
dataset.json) is written last, so a folder with an index is a finished one.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.codehash import code_hash
from pipeline.refine.annotation_check import no_shifts, summarize
from pipeline.refine.card import write_card
from pipeline.device import pick_device
from pipeline.errors import PipelineError
from pipeline.files import json_text, write_json
from pipeline.params import Params, to_dict
from pipeline.refine.shard import ShardReport
from pipeline.refine.jobs import ShardJob, run_jobs_local
from pipeline.shards import list_shards, read_dataset_info, read_manifest, shard_name, write_index
from pipeline.tracking import data_version

PROGRESS = ".refine-progress.json"
WHERE_IT_RAN = ("workers", "threads", "dask_address")  # params that do not change the refined data
FAILED_SUFFIX = ".failed"  # where a split that failed its annotation check is kept for inspection
INDEX_FILES = ("manifest.parquet", "dataset.json", "rejected.jsonl", "README.md", "sample-grid.png")


@dataclass
class SplitResult:
    reports: list[ShardReport]
    shifts: np.ndarray
    check: dict
    info: dict
    seconds: float

    @property
    def counts(self) -> dict:
        n = sum(r.n for r in self.reports)
        return {"in": n, "written": n, "rejected": 0}


def fingerprint(domain: str, refiner_sha256: str, synthetic_dir: Path, params: Params) -> str:
    """What decides the refined shards' bytes (not the threshold, workers or the Dask address)."""
    cfg = params.domain(domain).refine
    doc = {"domain": domain, "refiner_sha256": refiner_sha256, "synthetic": data_version(synthetic_dir),
           "batch_size": cfg.batch_size, "precision": cfg.precision, "device": pick_device().type,
           "code": code_hash("stages.refine")}
    return hashlib.sha256(json_text(doc, indent=None).encode()).hexdigest()[:16]


def earlier_fingerprint(out_dir: Path) -> str | None:
    try:
        if (out_dir / PROGRESS).exists():
            return json.loads((out_dir / PROGRESS).read_text()).get("fingerprint")
        if (out_dir / "dataset.json").exists():
            return read_dataset_info(out_dir).get("info", {}).get("fingerprint")
    except (ValueError, AttributeError):  # a damaged record: nothing earlier can be trusted
        pass
    return None


def prepare_output(out_dir: Path, names: list[str], fp: str) -> None:
    """Clear what a rerun must not keep; leave the finished shards of an identical earlier run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    same_run = earlier_fingerprint(out_dir) == fp
    for p in out_dir.glob(f"{out_dir.name}-*.tar"):
        if not same_run or p.name not in names:
            p.unlink()
    for p in [*out_dir.glob(".*.tmp"), *(out_dir / n for n in INDEX_FILES)]:
        p.unlink(missing_ok=True)
    write_json(out_dir / PROGRESS, {"fingerprint": fp})


NOT_MEASURED = {  # your own synthetic data may carry fewer labels than the check reads
    "eyes": "no synthetic sample carries iris landmarks (a Kaggle gaze.h5 has gaze only)",
    "hands": "no synthetic sample carries joints on the hand"}


def check_reports(reports: list[ShardReport], expected: Counter, names_in: dict[str, str]) -> None:
    errors = [r.error for r in reports if r.error]
    if errors:
        raise PipelineError(f"{len(errors)} shard(s) failed (finished ones are kept for the rerun):\n  "
                            + "\n  ".join(errors))
    for r in reports:
        src = names_in[r.shard]
        if r.n != expected[Path(src).name]:
            raise PipelineError(f"{src}: {r.n} samples read, its manifest lists {expected[Path(src).name]} "
                                f"(truncated or rewritten shard? re-run ingest)")


def refine_split(params: Params, domain: str, synthetic_dir: str | Path, out_dir: str | Path,
                 model: str | Path) -> SplitResult:
    """Refine every shard of `synthetic_dir` into `out_dir` and write its index."""
    from pipeline.simgan.io import load_refiner

    synthetic_dir, out_dir, cfg = Path(synthetic_dir), Path(out_dir), params.domain(domain).refine
    sources = list_shards(synthetic_dir)
    expected = Counter(read_manifest(synthetic_dir).column("shard").to_pylist())
    _, refiner_info = load_refiner(model, domain, params)  # a mismatching refiner fails here, early
    refined_by = {"refiner_sha256": refiner_info["sha256"]}  # a function of the inputs only: no run ids
    names = [shard_name(out_dir.name, i) for i in range(len(sources))]
    fp = fingerprint(domain, refined_by["refiner_sha256"], synthetic_dir, params)
    prepare_output(out_dir, names, fp)

    remote = bool(cfg.dask_address)
    cores_each = 1 if remote else max(1, (os.cpu_count() or 1) // min(cfg.workers, len(sources)))
    threads = cfg.threads or cores_each
    jobs = [ShardJob(src, str(out_dir / name), domain, str(model), params, refined_by, threads)
            for src, name in zip(sources, names)]
    start = time.perf_counter()
    if remote:
        from pipeline.refine.on_dask import run_jobs_on_dask

        reports = run_jobs_on_dask(jobs, cfg.dask_address)
    else:
        reports = run_jobs_local(jobs, cfg.workers)
    seconds = time.perf_counter() - start
    check_reports(reports, expected, dict(zip(names, sources)))

    shifts = np.concatenate([r.shifts for r in reports]) if reports else no_shifts()
    check = summarize(domain, shifts, cfg.max_label_shift, cfg.max_lost_fraction, cfg.max_label_shift_p95,
                      cfg.max_joint_move_px, cfg.max_joint_move_px_p95)
    if check["checked"] == 0 and len(shifts):  # not a failure, but said in metrics, dataset.json and card
        check["not_measured"] = NOT_MEASURED[domain]
    info = {"domain": domain, "refined_by": refined_by, "fingerprint": fp,
            "inputs": {"synthetic": {"path": str(synthetic_dir), "data_version": data_version(synthetic_dir)},
                       "refiner": {"path": str(model), "sha256": refined_by["refiner_sha256"],
                                   "steps": refiner_info["steps"], "config": refiner_info["config"]}},
            "params": {k: v for k, v in to_dict(cfg).items() if k not in WHERE_IT_RAN},
            "annotation_check": check}
    result = SplitResult(reports, shifts, check, info, seconds)
    (out_dir / PROGRESS).unlink()
    # nothing publishable: no card, no index; the shards stay for inspection. A check with nothing to
    # measure (own synthetic data without the labels it reads) publishes, and the card says so.
    if not check["passed"] and "not_measured" not in check:
        failed = out_dir.with_name(f"{out_dir.name}{FAILED_SUFFIX}")
        shutil.rmtree(failed, ignore_errors=True)  # our own earlier failed output
        out_dir.rename(failed)
        return result
    # the card shows the synthetic split's crops beside the refined ones (hands: not the context crops R saw)
    write_card(domain, synthetic_dir.with_name("synthetic"), out_dir, info, result.counts, len(reports), cfg.grid_samples)
    rows = [row for r in reports for row in r.rows]
    write_index(out_dir, rows, result.counts, names, info, [])  # dataset.json last: the folder is finished
    return result
