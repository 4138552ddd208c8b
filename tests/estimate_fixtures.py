"""Tiny labelled shards for the estimator/realism/report tests, written with pipeline.shards.

Eyes: 35x55 grey crops with a dark iris disc whose position follows (pitch, yaw), so a net can
learn gaze from them. Hands: S x S depth crops (mm, background 0) with a blob at each of 14
joints, crop meta as ingest writes it. `style` shifts the look (brightness, noise) so a "real"
split differs from a "synthetic" one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.crops.hands import crop_dict, far_value, uncrop_uvd
from pipeline.formats.nyu import uvd_to_xyz
from pipeline.shards import Sample, ShardWriter, flatten, read_samples

def eye_sample(rng, key: str, split: str, style: float, labelled: bool) -> Sample:
    pitch, yaw = rng.uniform(-0.3, 0.3, 2)
    yy, xx = np.mgrid[0:35, 0:55]
    cx, cy = 27 + yaw * 40, 17 - pitch * 30
    disc = ((xx - cx) ** 2 + (yy - cy) ** 2) < 36
    img = 150 + 40 * style + rng.normal(0, 4 + 10 * style, (35, 55)) - 90 * disc
    meta = {"id": key, "domain": "eyes", "split": split, "source": f"fixture#{key}",
            "crop": {"center": [70, 42], "box": [140, 84], "out": [55, 35], "flip": False, "src_size": [640, 480]}}
    if labelled:
        meta["labels"] = {"gaze": {"pitch": float(pitch), "yaw": float(yaw), "vector": [0.0, 0.0, -1.0]}}
    return Sample(key, np.clip(img, 0, 255).astype(np.uint8), meta)


def hand_sample(rng, key: str, split: str, style: float, labelled: bool, size: int = 32) -> Sample:
    centre = [320.0 + rng.uniform(-50, 50), 240.0 + rng.uniform(-50, 50), float(round(rng.uniform(500, 800)))]
    crop = crop_dict(centre, 300.0, size)
    joints = np.c_[rng.uniform(0.2, 0.8, (14, 2)) * size, centre[2] + rng.uniform(-60, 60, 14)]
    yy, xx = np.mgrid[0:size, 0:size]
    dist = np.sqrt((xx[None] - joints[:, 0, None, None]) ** 2 + (yy[None] - joints[:, 1, None, None]) ** 2)
    near = dist.argmin(0)
    blob = joints[near, 2] + rng.normal(0, 1 + 5 * style, (size, size))
    depth = np.where(dist.min(0) < 3, blob, far_value(crop))
    meta = {"id": key, "domain": "hands", "split": split, "source": f"fixture#{key}", "crop": crop}
    if labelled:
        xyz = uvd_to_xyz(uncrop_uvd(joints, crop), crop)
        meta["labels"] = {"joints_uvd": joints.tolist(), "joints_xyz": xyz.tolist(), "joint_ids": list(range(14))}
    return Sample(key, depth.astype(np.uint16), meta)


def write_split(root: Path, domain: str, split: str, n: int, seed: int, style: float = 0.0,
                labelled: bool = True, prefix: str = "s", shard_size: int = 50) -> Path:
    rng = np.random.default_rng(seed)
    make = eye_sample if domain == "eyes" else hand_sample
    split_dir = root / "shards" / domain / split
    with ShardWriter(split_dir, shard_size=shard_size) as w:
        for i in range(n):
            w.write(make(rng, f"{prefix}{i:05d}", split, style, labelled))
    return split_dir


def write_domain(root: Path, domain: str, n: int = 64, seed: int = 0) -> None:
    """synthetic, refined (= synthetic keys, slightly restyled), real_train (+ labels parquet), real_holdout
    (unlabelled), real_val and real_test."""
    write_split(root, domain, "synthetic", n, seed)
    write_split(root, domain, "refined", n, seed, style=0.5)
    write_split(root, domain, "real_test", n // 2, seed + 2, style=1.0, prefix="t")
    write_split(root, domain, "real_val", n // 2, seed + 3, style=1.0, prefix="v")
    write_split(root, domain, "real_holdout", n // 2, seed + 4, style=1.0, labelled=False, prefix="h")
    train_dir = write_split(root, domain, "real_train", n, seed + 1, style=1.0, labelled=False, prefix="r")
    labelled = write_split(root / "tmp", domain, "real_train", n, seed + 1, style=1.0, prefix="r")
    # as ingest writes it: one row per key, the labels flattened to labels_* columns
    rows = [{"key": s.key, **flatten({"labels": s.meta["labels"]})} for s in read_samples(labelled, by_node=False)]
    out = root / "labels" / domain / "real_train.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), out)
    assert train_dir.exists()
