"""Refine one synthetic shard: stream it through the refiner in batches into a refined shard.

Keys and their order are kept and each meta.json is the synthetic one plus `refined_by`; only
the image changes. Hand context crops (pipeline/refine/context.py) are refined whole and cut
again around the refined depth: there the crop and the labels in it change too. The shard is streamed: memory holds one batch of decoded images, and the
output goes straight into the tar writer, which renames the shard into place only when it is
complete. The annotation check is measured on the same in-memory (synthetic, refined) pairs.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch

from pipeline.refine import context
from pipeline.refine.annotation_check import label_shift, no_shifts
from pipeline.crops import denormalize, normalize
from pipeline.crops import hands as crops
from pipeline.device import autocast, memory_format
from pipeline.errors import PipelineError
from pipeline.shards import Sample, encode_meta, encode_png, iter_shard, manifest_row, write_shard


@dataclass
class ShardReport:
    shard: str  # refined shard file name
    n: int = 0
    rows: list[dict] | None = None  # manifest rows of the refined samples
    shifts: np.ndarray | None = None  # per-sample (label shift, lost fraction), annotation_check.label_shift
    refined: bool = True  # False: an earlier run's finished shard was verified and kept
    error: str = ""


def read_shard(path: str | Path) -> Iterator[Sample]:
    """The samples of a synthetic shard; any read failure becomes an error naming the shard."""
    try:
        yield from iter_shard(path)
    except PipelineError:
        raise  # already names the shard and sample
    except Exception as e:  # tarfile/webdataset errors on a corrupt or truncated tar
        raise PipelineError(f"{path}: unreadable synthetic shard ({type(e).__name__}: {e})") from None


def batched(items: Iterable, n: int) -> Iterator[list]:
    it = iter(items)
    while batch := list(itertools.islice(it, n)):
        yield batch


def refine_images(refiner: torch.nn.Module, samples: list[Sample], domain: str,
                  device: torch.device, precision: str) -> list[np.ndarray]:
    """Shard images -> model space -> R -> shard images (uint8 grey / uint16 mm)."""
    x = torch.from_numpy(np.stack([context.to_model(s.image, s.meta) if context.is_context(s.meta)
                                   else normalize(domain, s.image, s.meta) for s in samples]))[:, None]
    x = x.to(device, non_blocking=True).contiguous(memory_format=memory_format(device))
    with torch.inference_mode(), autocast(device, precision):
        y = refiner(x)
    y = y.float().cpu().numpy()[:, 0]
    return [context.from_model(yi, s.meta) if context.is_context(s.meta) else denormalize(domain, yi, s.meta)
            for yi, s in zip(y, samples)]


def finish(batch: list[Sample], refined: list[np.ndarray], domain: str, refined_by: dict
           ) -> tuple[list[np.ndarray], list[dict], np.ndarray]:
    """(images to write, their metas, the annotation check's per-sample shifts) of a refined batch;
    context crops are cut again here (context.refine_context) and checked in their final crops."""
    if not any(context.is_context(s.meta) for s in batch):
        metas = [refined_meta(s.meta, refined_by) for s in batch]
        return refined, metas, label_shift(domain, np.stack([s.image for s in batch]), np.stack(refined),
                                           [s.meta for s in batch])
    done = [context.refine_context(r, s.image, s.meta, refined_by) for s, r in zip(batch, refined)]
    images, before, metas = (list(x) for x in zip(*done))
    return images, metas, label_shift(domain, np.stack(before), np.stack(images), metas)


def refined_meta(meta: dict, refined_by: dict) -> dict:
    return {**meta, "refined_by": refined_by}


def refine_shard(refiner: torch.nn.Module, shard_path: str | Path, out_path: str | Path, *, domain: str,
                 refined_by: dict, batch_size: int = 256, device: torch.device | None = None,
                 precision: str = "auto") -> ShardReport:
    """Refine `shard_path` into `out_path` (atomically); returns counts, manifest rows and label shifts."""
    out_path = Path(out_path)
    device = device or next(refiner.parameters()).device
    report = ShardReport(out_path.name, rows=[])
    shifts: list[np.ndarray] = []

    def members() -> Iterator[tuple[str, bytes, bytes]]:
        for batch in batched(read_shard(shard_path), batch_size):
            try:
                refined = refine_images(refiner, batch, domain, device, precision)
                refined, metas, batch_shifts = finish(batch, refined, domain, refined_by)
                shifts.append(batch_shifts)
            except (ValueError, RuntimeError) as e:  # mixed crop sizes, wrong dtype, ...
                raise PipelineError(f"{shard_path}: cannot refine samples {batch[0].key}..{batch[-1].key} "
                                    f"({type(e).__name__}: {e})") from None
            for s, image, meta in zip(batch, refined, metas):
                meta_json = encode_meta(meta)
                # rows from the stored JSON, so a kept shard's rows (read back) come out identical
                report.rows.append(manifest_row(s.key, out_path.name, json.loads(meta_json)))
                yield s.key, encode_png(image), meta_json

    try:
        write_shard(out_path, members())
    finally:  # a failed shard must not leave its temporary file in the output folder
        out_path.with_name(f".{out_path.name}.tmp").unlink(missing_ok=True)
    report.n = len(report.rows)
    report.shifts = np.concatenate(shifts) if shifts else no_shifts()
    return report


class _Unreadable(Exception):
    """An earlier run's refined shard that does not read back: refine it again."""


def _read_earlier(path: Path) -> Iterator[Sample]:
    try:
        yield from iter_shard(path)
    except Exception as e:
        raise _Unreadable(str(e)) from None


def verify_shard(shard_path: str | Path, out_path: str | Path, *, domain: str, refined_by: dict) -> ShardReport | None:
    """The report of an earlier run's refined shard if it is complete and matches, else None.

    It matches when it reads back, has the synthetic shard's keys in order, and every meta is
    the synthetic meta plus this `refined_by`. Its label shifts are measured again from the pair.
    Errors reading the synthetic shard propagate (they are the stage's error, not a stale output).
    """
    out_path = Path(out_path)
    if not out_path.exists():
        return None
    report = ShardReport(out_path.name, rows=[], refined=False)
    shifts = []
    pairs = itertools.zip_longest(batched(read_shard(shard_path), 256), batched(_read_earlier(out_path), 256))
    try:
        for syn, ref in pairs:
            if syn is None or ref is None or [s.key for s in syn] != [r.key for r in ref]:
                return None
            if any(not context.matches(s.meta, r.meta, refined_by) if context.is_context(s.meta)
                   else r.meta != refined_meta(s.meta, refined_by) for s, r in zip(syn, ref)):
                return None
            before = [crops.cut_context(s.image, s.meta["crop"], r.meta["crop"]) if context.is_context(s.meta)
                      else s.image for s, r in zip(syn, ref)]
            metas = [r.meta if context.is_context(s.meta) else s.meta for s, r in zip(syn, ref)]
            shifts.append(label_shift(domain, np.stack(before), np.stack([r.image for r in ref]), metas))
            report.rows += [manifest_row(r.key, out_path.name, r.meta) for r in ref]
    except _Unreadable:
        return None
    report.n = len(report.rows)
    report.shifts = np.concatenate(shifts) if shifts else no_shifts()
    return report
