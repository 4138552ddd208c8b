"""Small shards and params for the SimGAN tests: written with pipeline.shards like ingest does."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from pipeline.shards import Sample, ShardWriter

EYE_SHAPE = (35, 55)


def eye_meta(key: str, split: str) -> dict:
    meta = {"id": key, "domain": "eyes", "split": split, "source": f"fixture#{key}",
            "crop": {"center": [70.0, 42.0], "box": [140, 84], "out": [55, 35], "flip": False, "src_size": [640, 480]}}
    if split == "synthetic":
        meta["labels"] = {"gaze": {"pitch": 0.0, "yaw": 0.0, "vector": [0.0, 0.0, -1.0]}}
    return meta


def eye_image(rng: np.random.Generator, split: str) -> np.ndarray:
    """A dark disc (iris) on a bright background; real adds noise so the domains differ."""
    h, w = EYE_SHAPE
    yy, xx = np.mgrid[:h, :w]
    cx, cy = rng.uniform(15, 40), rng.uniform(12, 23)
    img = np.where((xx - cx) ** 2 + (yy - cy) ** 2 < 64, 60.0, 190.0)
    if split != "synthetic":
        img = img * 0.8 + rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_eye_shards(data_root: Path, n: int = 48, shard_size: int = 12, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for split in ("synthetic", "real_train"):
        with ShardWriter(data_root / "shards" / "eyes" / split, shard_size=shard_size) as w:
            for i in range(n):
                key = f"{split}-{i:05d}"
                w.write(Sample(key, eye_image(rng, split), eye_meta(key, split)))
    return data_root


def hand_meta(key: str, split: str, size: int) -> dict:
    meta = {"id": key, "domain": "hands", "split": split, "source": f"fixture#{key}",
            "crop": {"center_uvd": [320.0, 240.0, 700.0], "cube_mm": 300.0, "size": size, "fx": 588.03,
                     "fy": 587.07, "cx": 320.0, "cy": 240.0, "src_size": [640, 480]}}
    if split == "synthetic":
        meta["labels"] = {"joints_uvd": [[size / 2, size / 2, 700.0]] * 14}
    return meta


def hand_depth(rng: np.random.Generator, split: str, size: int) -> np.ndarray:
    """uint16 depth in mm: a blob ~700 mm in front of a far background (1000 mm), noisy when real."""
    yy, xx = np.mgrid[:size, :size]
    cx, cy = rng.uniform(0.3, 0.7, 2) * size
    depth = np.where((xx - cx) ** 2 + (yy - cy) ** 2 < (size / 4) ** 2, 650 + (xx - cx) * 2.0, 1000.0)
    if split != "synthetic":
        depth = depth + rng.normal(0, 8, depth.shape)
    return depth.astype(np.uint16)


def write_hand_shards(data_root: Path, size: int, n: int = 32, shard_size: int = 16, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for split in ("synthetic", "real_train"):
        with ShardWriter(data_root / "shards" / "hands" / split, shard_size=shard_size) as w:
            for i in range(n):
                key = f"{split}-{i:05d}"
                w.write(Sample(key, hand_depth(rng, split, size), hand_meta(key, split, size)))
    return data_root


TINY = {"channels": 4, "blocks": 1, "d_width": 0.25, "batch_size": 8, "history_size": 32,
        "pretrain_r_steps": 3, "pretrain_d_steps": 2, "steps": 4, "log_every": 2, "grid_every": 4,
        "checkpoint_every": 3, "workers": 1, "min_mean_change": 0.0, "precision": "bf16"}


def write_params(path: Path, domain: str = "eyes", hand_size: int = 32, **train_refiner) -> Path:
    doc = {"seed": 0, domain: {"train_refiner": {**TINY, **train_refiner}}}
    if domain == "hands":
        doc["hands"]["ingest"] = {"size": hand_size}
    path.write_text(yaml.safe_dump(doc))
    return path
