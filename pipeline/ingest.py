"""Generic parallel ingest: decode/crop records in worker processes, write shards in order.

A domain supplies `items` (files or file groups) and a picklable top-level `load(item)`
returning a list of `Sample | Reject`; each sample's split is `meta["split"]`. Workers also
encode PNG + JSON so the writing process only appends bytes to tars. `imap` keeps the input
order, so the shards do not depend on scheduling.
"""
from __future__ import annotations

import multiprocessing as mp
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Sequence

import cv2
from tqdm import tqdm

from pipeline.errors import PipelineError
from pipeline.shards import Reject, Sample, ShardWriter, encode_png

Loaded = list[Sample | Reject]


def _encode(load: Callable, item) -> list:
    out = []
    for rec in load(item):
        if isinstance(rec, Reject):
            out.append(rec)
        else:
            try:
                out.append((rec.key, encode_png(rec.image), rec.meta))
            except PipelineError as e:
                out.append(Reject(rec.meta.get("source", rec.key), str(e), rec.meta.get("split", "")))
    return out


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core; OpenCV's own threads would oversubscribe


def map_records(items: Sequence, load: Callable, workers: int, desc: str = "") -> Iterable[list]:
    """Yield `_encode(load, item)` for each item, in order, over `workers` processes."""
    fn = partial(_encode, load)
    bar = dict(total=len(items), desc=desc, unit="file", mininterval=1.0, leave=False)
    if workers <= 1:
        yield from tqdm(map(fn, items), **bar)
        return
    chunk = max(1, min(64, len(items) // (workers * 8)))
    with mp.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
        yield from tqdm(pool.imap(fn, items, chunksize=chunk), **bar)


def run_ingest(items: Sequence, load: Callable, writers: dict[str, ShardWriter],
               workers: int = 2, desc: str = "ingest") -> dict[str, dict]:
    """Route every record of every item to its split's writer; returns per-split counts."""
    for recs in map_records(items, load, workers, desc):
        for rec in recs:
            if isinstance(rec, Reject):
                _writer(writers, rec.split, rec.source).reject(rec.source, rec.reason)
            else:
                key, png, meta = rec
                _writer(writers, meta.get("split", ""), key).write_encoded(key, png, meta)
    return {split: w.close() for split, w in writers.items()}


def _writer(writers: dict[str, ShardWriter], split: str, what: str) -> ShardWriter:
    if split not in writers:
        raise PipelineError(f"{what}: record for split {split!r}, expected one of {sorted(writers)}")
    return writers[split]


def open_writers(out_dir: Path, splits: Iterable[str], shard_size: int, info: dict) -> dict[str, ShardWriter]:
    return {s: ShardWriter(Path(out_dir) / s, shard_size, info) for s in splits}
