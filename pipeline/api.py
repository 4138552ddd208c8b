"""What other teams import: a refined dataset version as a torch IterableDataset.

    from pipeline.api import open_refined
    ds = open_refined("eyes", repo="https://github.com/org/simgan-pipeline", rev="eyes-v1")
    for image, labels in torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2):
        ...   # image: float32 (1, H, W) in [-1, 1]; labels: the sample's label dict

The shards are read at git revision `rev` of `repo` through DVC's filesystem (dvc.api /
DVCFileSystem): from the DVC cache when the repo has it, else from the repo's default remote;
the pipeline is not cloned into the caller's workspace and nothing is unpickled. `repo=None`
reads the current project's workspace. A consumer repo that did
`dvc import <repo> data/shards/eyes/refined -o data/shards/eyes/refined --rev <tag>` can be
opened the same way with `repo=<consumer repo>`.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info
from webdataset.tariterators import group_by_keys, tar_file_expander

from pipeline.crops import normalize
from pipeline.errors import PipelineError
from pipeline.params import DOMAINS
from pipeline.shards import decode_sample


def split_path(domain: str, split: str) -> str:
    return f"data/shards/{domain}/{split}"


class RefinedDataset(IterableDataset):
    """(image, labels) of one split at one revision; shards are split across DataLoader workers."""

    def __init__(self, domain: str, repo: str | None, rev: str | None, split: str, path: str | None,
                 normalized: bool, with_meta: bool):
        if domain not in DOMAINS:
            raise PipelineError(f"unknown domain {domain!r}; expected one of {', '.join(DOMAINS)}")
        self.domain, self.repo, self.rev, self.normalized, self.with_meta = domain, repo, rev, normalized, with_meta
        self.path = path or split_path(domain, split)
        self.shards = self._list_shards()  # fail now, in the caller, when the version has no such split

    def _fs(self):
        from dvc.api import DVCFileSystem  # late import: dvc is heavy

        return DVCFileSystem(self.repo, rev=self.rev)

    def _list_shards(self) -> list[str]:
        where = f"{self.repo or '.'}@{self.rev or 'workspace'}:{self.path}"
        try:
            names = self._fs().ls(self.path, detail=False)
        except FileNotFoundError:
            raise PipelineError(f"{where}: no such folder at that revision") from None
        prefix = self.path.rstrip("/").rsplit("/", 1)[-1] + "-"
        shards = sorted(n for n in names if n.rsplit("/", 1)[-1].startswith(prefix) and n.endswith(".tar"))
        if not shards:
            raise PipelineError(f"{where}: no shards ({prefix}NNNNNN.tar) in that folder")
        return shards

    def _item(self, raw: dict):
        s = decode_sample(raw)
        if self.normalized:
            image = torch.from_numpy(normalize(self.domain, s.image, s.meta))[None]
        else:  # torch has no uint16: depth in mm as int32
            image = torch.from_numpy(s.image.astype(np.int32 if s.image.dtype == np.uint16 else np.uint8))[None]
        return (image, s.meta.get("labels", {}), s.meta) if self.with_meta else (image, s.meta.get("labels", {}))

    def __iter__(self) -> Iterator:
        worker = get_worker_info()
        mine = self.shards[worker.id::worker.num_workers] if worker else self.shards
        fs = self._fs()
        for shard in mine:
            with fs.open(shard, "rb") as f:
                for raw in group_by_keys(tar_file_expander([{"url": shard, "stream": f}])):
                    yield self._item(raw)


def open_refined(domain: str, repo: str | None = None, rev: str | None = None, split: str = "refined", *,
                 path: str | None = None, normalized: bool = True, with_meta: bool = False) -> RefinedDataset:
    """The refined (or any other) split of `domain` at `rev` of `repo` as an IterableDataset.

    Items are (image, labels): image float32 (1, H, W) in [-1, 1] (`normalized=False`: the stored
    uint8 grey / int32 depth mm), labels the sample's label dict; `with_meta=True` adds the whole
    meta (crop, source, refined_by). `path` overrides data/shards/<domain>/<split>.
    """
    return RefinedDataset(domain, repo, rev, split, path, normalized, with_meta)
