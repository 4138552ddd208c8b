"""The study's two image pools and how an image is shown.

Images are looked up server-side by (label, key) in the chosen split directories only; the page
sees an opaque trial id. Both classes go through one rendering (model-space normalization,
8-bit, integer upscale, the same colormap) and are re-encoded as PNG, so nothing but the pixels
can tell them apart.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.crops import normalize
from pipeline.errors import PipelineError
from pipeline.images import to_uint8
from pipeline.shards import Sample, iter_shard, list_shards, read_manifest

# hands: depth is negated so the near hand is bright and the background (+1) black
DISPLAY = {"eyes": {"negate": False, "colormap": None},
           "hands": {"negate": True, "colormap": cv2.COLORMAP_INFERNO}}


@dataclass(frozen=True)
class ImagePool:
    """Keys of one class of images and the shard each lives in."""
    label: str
    split_dir: Path
    shard_of: dict[str, str]

    @property
    def keys(self) -> list[str]:
        return sorted(self.shard_of)

    def sample(self, key: str) -> Sample:
        if key not in self.shard_of:
            raise PipelineError(f"{self.split_dir}: no sample {key!r}")
        return _load_shard(str(self.split_dir / self.shard_of[key]))[key]


def open_pool(label: str, split_dir: str | Path) -> ImagePool:
    split_dir = Path(split_dir)
    list_shards(split_dir)  # fails clearly when the split is missing or empty
    table = read_manifest(split_dir).select(["key", "shard"]).to_pydict()
    if not table["key"]:
        raise PipelineError(f"{split_dir}/manifest.parquet: no samples to show")
    return ImagePool(label, split_dir, dict(zip(table["key"], table["shard"])))


@functools.lru_cache(maxsize=8)
def _load_shard(path: str) -> dict[str, Sample]:
    # a shard is small (1000 crops): decode it once, serve its samples from memory
    return {s.key: s for s in iter_shard(path)}


def render(domain: str, image: np.ndarray, meta: dict, display_px: int) -> np.ndarray:
    """A shard image as the participant sees it: uint8 grey (eyes) or BGR (hands), upscaled."""
    style = DISPLAY[domain]
    x = normalize(domain, image, meta)
    if style["negate"]:
        x = -x
    u8 = to_uint8(x)
    scale = max(1, display_px // max(u8.shape))  # integer nearest-neighbour: no resampling texture
    big = cv2.resize(u8, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return big if style["colormap"] is None else cv2.applyColorMap(big, style["colormap"])


def render_png(domain: str, sample: Sample, display_px: int) -> bytes:
    ok, buf = cv2.imencode(".png", render(domain, sample.image, sample.meta, display_px))
    if not ok:
        raise PipelineError(f"PNG encoding failed for sample {sample.key}")
    return buf.tobytes()
