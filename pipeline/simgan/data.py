"""Endless, reshuffled streams of model-space image batches from a split's shards.

R and D only ever see images: samples are read through `pipeline.shards.read_samples` (split by
DDP rank and DataLoader worker) and converted by `pipeline.crops.normalize` in the loader
workers, which prefetch so decoding stays off the training loop's critical path. Labels are
never read: only `image` and the crop part of `meta` are used, and the refiner reads the real
*train* split, which is ingested without labels.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info
from torch.utils.data._utils.signal_handling import _remove_worker_pids

from pipeline.crops import normalize
from pipeline.errors import PipelineError
from pipeline.params import Params
from pipeline.shards import list_shards, read_dataset_info, read_samples


def crop_shape(params: Params, domain: str) -> tuple[int, int]:
    """(H, W) of the domain's model-space crops, as ingest writes them."""
    if domain == "eyes":
        return params.eyes.ingest.crop_h, params.eyes.ingest.crop_w
    size = params.domain(domain).ingest.size
    return size, size


def split_dir(data_root: str | Path, domain: str, split: str) -> Path:
    return Path(data_root) / "shards" / domain / split


class NormalizedImages(IterableDataset):
    """Model-space images (1, H, W) of one split, epoch after epoch, each epoch reshuffled."""

    def __init__(self, split: str | Path, domain: str, shape: tuple[int, int], seed: int, first_epoch: int = 0):
        self.split, self.domain, self.shape = Path(split), domain, tuple(shape)
        self.seed, self.first_epoch = seed, first_epoch

    def __iter__(self) -> Iterator[torch.Tensor]:
        samples = read_samples(self.split, shuffle=True, seed=self.seed, epoch=self.first_epoch)
        while True:  # each pass over the pipeline advances its shuffle epoch
            n = 0
            for s in samples:
                x = normalize(self.domain, s.image, s.meta)
                if x.shape != self.shape:
                    raise PipelineError(f"{self.split}: sample {s.key} has crop shape {x.shape}, "
                                        f"params expect {self.shape} (re-run ingest?)")
                n += 1
                yield torch.from_numpy(x)[None]
            if n == 0:
                worker = get_worker_info()
                raise PipelineError(f"{self.split}: no samples reached loader worker "
                                    f"{worker.id if worker else 0} (fewer shards than ranks x workers?)")


def _one_thread(_: int) -> None:
    torch.set_num_threads(1)  # loader workers decode PNGs; leave the cores to the training loop


def batch_stream(split: str | Path, domain: str, shape: tuple[int, int], batch_size: int, *,
                 workers: int, seed: int, first_epoch: int = 0, rank: int = 0, world_size: int = 1,
                 pin_memory: bool = False) -> Iterator[torch.Tensor]:
    """An endless generator of (batch_size, 1, H, W) float32 batches from `split`'s shards; close it
    (or use `contextlib.closing`) to stop its loader workers."""
    n_shards = len(list_shards(split)[rank::world_size])
    if n_shards == 0:
        raise PipelineError(f"{split}: {len(list_shards(split))} shard(s) cannot feed {world_size} ranks; "
                            f"write more, smaller shards (ingest.shard_size)")
    workers = min(workers, n_shards)  # a worker without a shard would see no samples
    loader = DataLoader(NormalizedImages(split, domain, shape, seed, first_epoch), batch_size=batch_size,
                        num_workers=workers, drop_last=True, pin_memory=pin_memory,
                        worker_init_fn=_one_thread if workers else None,
                        prefetch_factor=4 if workers else None, persistent_workers=workers > 0)
    return _batches(loader)


def _batches(loader: DataLoader) -> Iterator[torch.Tensor]:
    """`loader`'s batches; closing the generator stops its worker processes at once.

    Left to the garbage collector, the workers of an endless stream live on while anything holds
    the iterator, e.g. the traceback of a run that raised; torch's SIGCHLD handler then reports
    their later exit inside whatever code the process is running by then. Callers close the
    stream (`contextlib.closing`) when training ends, normally or not."""
    batches = iter(loader)
    try:
        yield from batches
    finally:
        if getattr(batches, "_worker_pids_set", False):  # only a multi-process iterator has workers
            # Stopping them on purpose: their exit status says nothing about the data any more. In a
            # long-lived process (CI's pytest worker, after ~12 min of other tests) they exited 1 on
            # shutdown, for a reason not found, and torch's SIGCHLD check raised that inside the join.
            _remove_worker_pids(id(batches))
            batches._worker_pids_set = False
            batches._shutdown_workers()


def probe_images(split: str | Path, domain: str, n: int) -> torch.Tensor:
    """`n` images spread evenly over a split in stored order (every k-th sample): a fixed probe
    batch for grids and metrics that covers all shards (participants), not just the first."""
    total = read_dataset_info(split)["counts"]["written"]
    stride = max(1, total // n)
    images = [torch.from_numpy(normalize(domain, s.image, s.meta))[None]
              for i, s in enumerate(read_samples(split, by_node=False)) if i % stride == 0]
    if not images:
        raise PipelineError(f"{split}: no samples")
    return torch.stack(images[:n])
