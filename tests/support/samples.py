"""Sample shards for the tests, written with pipeline.shards exactly as ingest writes them.

One writer (`write_samples`) and three families of samples, each built for what its tests assert:
- annotated (refine, api): a rendered-looking eye with iris landmarks, a depth hand with joints, so
  the annotation check can measure what a refiner moved;
- gaze/pose (estimate, realism, report): the iris follows (pitch, yaw) and joint blobs their labels,
  so a net can learn them; `style` shifts the look so "real" differs from "synthetic";
- domain pair (train_refiner): plain synthetic vs noisy real images, unlabelled real side;
- easy gap (test_can_fail): synthetic = the real gaze eyes blurred, contrast and brightness changed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.crops.hands import crop_dict, far_value, uncrop_uvd
from pipeline.formats.nyu import uvd_to_xyz
from pipeline.shards import Sample, ShardWriter, flatten, read_samples

EYE_SHAPE = (35, 55)
HAND_SIZE = 32
HAND_CENTRE_MM = 600.0
JOINTS = 14
FAR_MM = HAND_CENTRE_MM + 150  # the far plane of a 300 mm cube


def write_samples(split_dir: Path, samples: Iterable[Sample], shard_size: int, info: dict | None = None) -> Path:
    """The one shard writer of the tests: `samples` into split_dir's shards and index."""
    with ShardWriter(split_dir, shard_size=shard_size, info=info) as w:
        for s in samples:
            w.write(s)
    return Path(split_dir)


# ---------------------------------------------------------------- annotated (refine, api)
def ellipse_points(cx: float, cy: float, rx: float, ry: float, n: int) -> list[list[float]]:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1).round(3).tolist()


def annotated_eye_sample(rng: np.random.Generator, key: str) -> Sample:
    """A rendered-looking eye: skin, sclera ellipse, iris and pupil discs, landmarks in crop px."""
    h, w = EYE_SHAPE
    yy, xx = np.mgrid[:h, :w]
    ix, iy, r = rng.uniform(20, 35), rng.uniform(14, 21), rng.uniform(5, 7)
    img = np.full((h, w), 150.0)
    img[((xx - 27) / 22) ** 2 + ((yy - 17) / 11) ** 2 < 1] = 215
    d2 = (xx - ix) ** 2 + (yy - iy) ** 2
    img[d2 < r * r] = 95
    img[d2 < (r / 2) ** 2] = 30
    img += rng.normal(0, 3, img.shape)
    meta = {"id": key, "domain": "eyes", "split": "synthetic", "source": f"fixture/{key}.jpg",
            "crop": {"center": [320.0, 240.0], "box": [140, 84], "out": [55, 35], "flip": False,
                     "src_size": [640, 480]},
            "labels": {"gaze": {"pitch": float(rng.uniform(-0.3, 0.3)), "yaw": float(rng.uniform(-0.3, 0.3)),
                                "vector": [0.0, 0.0, -1.0]},
                       "head_pose_deg": [0.0, 0.0, 0.0],
                       "landmarks": {"interior_margin": ellipse_points(27, 17, 22, 11, 16),
                                     "iris": ellipse_points(ix, iy, r, r, 32),
                                     "iris_center": [round(ix, 3), round(iy, 3)]}}}
    return Sample(key, np.clip(img, 0, 255).astype(np.uint8), meta)


def annotated_hand_sample(rng: np.random.Generator, key: str) -> Sample:
    """A depth crop: a sloped palm blob near the centre depth, 14 joints on it, background at the
    far plane (centre + cube / 2, as pipeline.crops.hands writes it)."""
    s = HAND_SIZE
    yy, xx = np.mgrid[:s, :s]
    cx, cy = rng.uniform(13, 19), rng.uniform(13, 19)
    blob = ((xx - cx) / 10) ** 2 + ((yy - cy) / 12) ** 2 < 1
    depth = np.where(blob, HAND_CENTRE_MM - 20 + 2.0 * (xx - cx) + rng.normal(0, 1, (s, s)), FAR_MM)
    u = np.clip(cx + rng.uniform(-6, 6, JOINTS), 0, s - 1)
    v = np.clip(cy + rng.uniform(-7, 7, JOINTS), 0, s - 1)
    d = HAND_CENTRE_MM - 10 + rng.uniform(-5, 5, JOINTS)
    meta = {"id": key, "domain": "hands", "split": "synthetic", "source": f"fixture/{key}.png",
            "crop": {"center_uvd": [320.0, 240.0, HAND_CENTRE_MM], "cube_mm": 300.0, "size": s,
                     "fx": 588.03, "fy": 587.07, "cx": 320.0, "cy": 240.0, "src_size": [640, 480]},
            "labels": {"joints_uvd": np.stack([u, v, d], 1).round(3).tolist(),
                       "joints_xyz": np.stack([u, -v, d], 1).round(3).tolist(),
                       "joint_ids": [0, 3, 6, 9, 12, 15, 18, 21, 24, 25, 27, 30, 31, 32]}}
    return Sample(key, np.rint(depth).astype(np.uint16), meta)


def hand_context(sample: Sample, margin: float = 1.5) -> Sample:
    """The sample's context crop as ingest@hands writes it (synthetic_context): `margin` x the cube
    around the same centre at the same pitch, so the crop sits exactly in its middle."""
    from pipeline.crops import hands as crops

    crop, s = sample.meta["crop"], sample.meta["crop"]["size"]
    wide = crops.wide_crop_dict(crop["center_uvd"], crop["cube_mm"], s, margin)
    off = (wide["size"] - s) // 2
    image = np.full((wide["size"],) * 2, crops.far_value(wide), np.uint16)
    inner = sample.image.copy()
    inner[inner == crops.far_value(crop)] = crops.far_value(wide)
    image[off:off + s, off:off + s] = inner
    labels = np.array(sample.meta["labels"]["joints_uvd"]) + [off, off, 0]
    meta = {**sample.meta, "split": "synthetic_context", "crop": wide,
            "labels": {**sample.meta["labels"], "joints_uvd": labels.round(3).tolist()},
            "context": {"cube_mm": crop["cube_mm"], "size": s, "min_depth_mm": 200.0, "max_depth_mm": 1500.0,
                        "min_hand_pixels": 200, "synthetic_crop": crop}}
    return Sample(sample.key, image, meta)


def write_synthetic(data_root: Path, domain: str, n: int, shard_size: int, seed: int = 0) -> Path:
    """The synthetic split (hands: and its context crops, synthetic_context, which refine@hands reads)."""
    rng = np.random.default_rng(seed)
    make = annotated_eye_sample if domain == "eyes" else annotated_hand_sample
    split = Path(data_root) / "shards" / domain / "synthetic"
    samples = [make(rng, f"synthetic-{i:05d}") for i in range(n)]
    write_samples(split, samples, shard_size, info={"fixture": True})
    if domain == "hands":
        write_samples(split.with_name("synthetic_context"), map(hand_context, samples), shard_size,
                      info={"fixture": True})
    return split


# ---------------------------------------------------------------- gaze / pose (estimate, realism, report)
def gaze_eye_sample(rng, key: str, split: str, style: float, labelled: bool) -> Sample:
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


def pose_hand_sample(rng, key: str, split: str, style: float, labelled: bool, size: int = 32) -> Sample:
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
    make = gaze_eye_sample if domain == "eyes" else pose_hand_sample
    return write_samples(root / "shards" / domain / split,
                         (make(rng, f"{prefix}{i:05d}", split, style, labelled) for i in range(n)), shard_size)


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


# ---------------------------------------------------------------- easy gap (test_can_fail)
def easy_gap_image(image: np.ndarray, gain: float, offset: float, blur_sigma: float) -> np.ndarray:
    """A real eye given a synthetic look: Gaussian blur (sigma in px), then x * gain + offset (contrast
    and brightness), rounded back to uint8. Every image gets the same global change."""
    from scipy.ndimage import gaussian_filter

    x = gaussian_filter(image.astype(np.float64), blur_sigma, mode="nearest") * gain + offset
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def write_easy_gap_synthetic(root: Path, n: int, seed: int, gain: float, offset: float, blur_sigma: float,
                             shard_size: int = 64) -> Path:
    """The synthetic eyes split: labelled real-look eyes (gaze_eye_sample, style 1.0) through easy_gap_image."""
    rng = np.random.default_rng(seed)

    def sample(i: int) -> Sample:
        s = gaze_eye_sample(rng, f"s{i:05d}", "synthetic", 1.0, True)
        return Sample(s.key, easy_gap_image(s.image, gain, offset, blur_sigma), s.meta)

    return write_samples(root / "shards" / "eyes" / "synthetic", (sample(i) for i in range(n)), shard_size)


# ---------------------------------------------------------------- domain pair (train_refiner)
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
        keys = (f"{split}-{i:05d}" for i in range(n))
        write_samples(data_root / "shards" / "eyes" / split,
                      (Sample(k, eye_image(rng, split), eye_meta(k, split)) for k in keys), shard_size)
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
        keys = (f"{split}-{i:05d}" for i in range(n))
        write_samples(data_root / "shards" / "hands" / split,
                      (Sample(k, hand_depth(rng, split, size), hand_meta(k, split, size)) for k in keys), shard_size)
    return data_root
