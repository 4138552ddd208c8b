"""Generic parallel ingest: decode/crop records in worker processes, write shards in order.

A domain supplies `items` (files or file groups) and a picklable top-level `load(item)`
returning a list of `Sample | Reject`; each sample's split is `meta["split"]`. Workers also
encode PNG, JSON and the manifest columns, so the writing process only appends bytes to tars.
`imap` keeps the input order, so the shards do not depend on scheduling.
"""
from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Sequence

import cv2
from tqdm import tqdm

from pipeline import paths
from pipeline.errors import PipelineError
from pipeline.files import write_json
from pipeline.ingest.splits import LABELS_APART, OPTIONAL, SPLITS
from pipeline.shards import Reject, Sample, ShardWriter, check_rejects, encode_sample, write_table

FILTERED = "filtered:"  # reason prefix of a record dropped by a param on purpose, not bad input

Loaded = list[Sample | Reject]




def _encode(load: Callable, item) -> list:
    out = []
    for rec in load(item):
        if isinstance(rec, Reject):
            out.append(rec)
        else:
            try:
                out.append(encode_sample(rec, labels_apart=rec.meta.get("split") in LABELS_APART))
            except PipelineError as e:
                out.append(Reject(rec.meta.get("source", rec.key), str(e), rec.meta.get("split", "")))
    return out


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core; OpenCV's own threads would oversubscribe


def interleave(*groups: list) -> list:
    """The items of all groups, each group spread evenly over the result in its own order.

    Items differ in cost (one render vs a .mat day of hundreds of eyes) and `imap` hands them out in
    chunks: a group of heavy items left at the end would finish the run on one busy worker. Each
    split is fed by one group, so its records still arrive in the same order: the shards do not change.
    """
    keyed = [((i + 0.5) / len(g), k, i) for k, g in enumerate(groups) for i in range(len(g))]
    return [groups[k][i] for _, k, i in sorted(keyed)]


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


@contextlib.contextmanager
def cyclic_gc_off():
    """The writer piles up ~1M small containers (manifest rows, landmark lists) with no reference
    cycles; Python's generational GC rescans them again and again: 6 % of the eye ingest's wall time."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def run_ingest(items: Sequence, load: Callable, writers: dict[str, ShardWriter],
               workers: int = 2, desc: str = "ingest") -> dict[str, dict]:
    """Route every record of every item to its split's writer; returns per-split counts."""
    with cyclic_gc_off():
        return _route(map_records(items, load, workers, desc), writers)


def _route(results: Iterable[list], writers: dict[str, ShardWriter]) -> dict[str, dict]:
    for recs in results:
        for rec in recs:
            if isinstance(rec, Reject):
                _writer(writers, rec.split, rec.source).reject(rec.source, rec.reason)
            else:
                _writer(writers, rec.fields["split"], rec.key).write_encoded(rec)
    return {split: w.close() for split, w in writers.items()}


def _writer(writers: dict[str, ShardWriter], split: str, what: str) -> ShardWriter:
    if split not in writers:
        raise PipelineError(f"{what}: record for split {split!r}, expected one of {sorted(writers)}")
    return writers[split]


def check_all_rejects(writers: dict[str, ShardWriter], max_fraction: float, may_be_empty: tuple = ()) -> None:
    """The reject-fraction check per split; records filtered on purpose do not count as bad.
    Splits in `may_be_empty` (a real_test the dataset does not have) may hold no records."""
    for split, w in writers.items():
        if split in may_be_empty and not w.counts["in"]:
            continue
        bad = [r for r in w.rejects if not r.reason.startswith(FILTERED)]
        counts = {"in": w.counts["in"] - (len(w.rejects) - len(bad)), "rejected": len(bad)}
        if w.counts["in"] and not counts["in"]:
            continue  # everything was filtered on purpose: not an input error
        if not w.counts["in"] and w.split in OPTIONAL:
            continue  # no val people / sequences or no holdout asked for
        check_rejects(w.dir, counts, bad, max_fraction)


def labelled_count(w: ShardWriter) -> int:
    if w.label_rows:
        return len(w.label_rows)
    return sum(any(k.startswith("labels_") and v is not None for k, v in row.items()) for row in w.rows)


def ingest_domain(domain: str, items: Sequence, load: Callable, data_root: Path, params, info: dict,
                  may_be_empty: tuple = ()) -> dict:
    """The splits of `domain` (pipeline.ingest.splits.SPLITS) under data_root/shards/<domain>/, the
    labels of real_train and real_holdout kept apart in data_root/labels/<domain>/<split>.parquet;
    fails on too many rejects (splits in `may_be_empty`, a real_test the dataset lacks, may be empty)."""
    shard_dir, size = Path(data_root) / "shards" / domain, params.ingest.shard_size
    writers = {split: ShardWriter(shard_dir / split, size, info, labels_apart=split in LABELS_APART)
               for split in SPLITS}
    counts = run_ingest(items, load, writers, workers=params.ingest.workers, desc=f"ingest {domain}")
    labels_dir = Path(data_root) / "labels" / domain
    for split in LABELS_APART:
        write_table(writers[split].label_rows, labels_dir / f"{split}.parquet")
    labels_path = labels_dir / "real_train.parquet"
    # how many samples of each split carry labels (numbers only): train_estimator learns from it whether
    # there is a labelled real test split without reading real_test (pipeline/estimate/skip.py)
    write_json(labels_dir / paths.labelled_counts(domain).name, {s: labelled_count(w) for s, w in writers.items()})
    check_all_rejects(writers, params.ingest.max_reject_fraction, may_be_empty)
    return {"counts": counts, "labels": str(labels_path)}
