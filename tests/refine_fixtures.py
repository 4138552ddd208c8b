"""Small synthetic splits, refiner files and params for the refine / api tests.

Shards are written with pipeline.shards like ingest does; refiner files with the SIMGAN
helper's `save_refiner` in the team's checkpoint format. The refiner is hand-set to a known
function (near-identity, or a one-pixel shift) so the tests can assert what refinement did.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import yaml

from pipeline.shards import Sample, ShardWriter
from pipeline.simgan.io import refiner_config, save_refiner
from pipeline.params import load_params
from pipeline.nets.refiner import Refiner

EYE_SHAPE = (35, 55)
HAND_SIZE = 32
HAND_CENTRE_MM = 600.0
JOINTS = 14
FAR_MM = HAND_CENTRE_MM + 150  # the far plane of a 300 mm cube


def ellipse_points(cx: float, cy: float, rx: float, ry: float, n: int) -> list[list[float]]:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1).round(3).tolist()


def eye_sample(rng: np.random.Generator, key: str) -> Sample:
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


def hand_sample(rng: np.random.Generator, key: str) -> Sample:
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
    make = eye_sample if domain == "eyes" else hand_sample
    split = Path(data_root) / "shards" / domain / "synthetic"
    samples = [make(rng, f"synthetic-{i:05d}") for i in range(n)]
    with ShardWriter(split, shard_size=shard_size, info={"fixture": True}) as w:
        for sample in samples:
            w.write(sample)
    if domain == "hands":
        with ShardWriter(split.with_name("synthetic_context"), shard_size=shard_size, info={"fixture": True}) as w:
            for sample in samples:
                w.write(hand_context(sample))
    return split


def write_params(path: Path, domain: str = "eyes", channels: int = 4, blocks: int = 1, **refine) -> Path:
    doc = {"seed": 0,
           "eyes": {"ingest": {"crop_w": EYE_SHAPE[1], "crop_h": EYE_SHAPE[0]}},
           "hands": {"ingest": {"size": HAND_SIZE}}}
    doc[domain]["train_refiner"] = {"channels": channels, "blocks": blocks}
    # one torch thread: several OpenMP threads crawl on a machine busy with other work
    doc[domain]["refine"] = {"batch_size": 16, "workers": 1, "threads": 1, "max_label_shift": 100.0,
                             "max_label_shift_p95": 1000.0, "max_joint_move_px": 100.0, "max_joint_move_px_p95": 100.0,
                             "precision": "bf16", "grid_samples": 4, **refine}
    path.write_text(yaml.safe_dump(doc))
    return path


def set_refiner(refiner: Refiner, shift_x: int = 0, seed: int = 0, noise: float = 0.02, gain: float = 1.0) -> Refiner:
    """R(x) = tanh(gain * x moved left by `shift_x` px) plus small random weights: a known refinement
    (gain 3 keeps a hand crop's +1 background above 0.99, as a trained R does).

    The stem copies +x and -x into two maps (ReLU keeps both halves), the blocks' convs are
    near zero so the skips carry them through, and the head takes their difference.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in refiner.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * noise)
        refiner.stem.weight[0, 0, 1, 1 + shift_x] += 1
        refiner.stem.weight[1, 0, 1, 1 + shift_x] -= 1
        refiner.head.weight[0, 0] += gain
        refiner.head.weight[0, 1] -= gain
    return refiner


def write_refiner(path: Path, params_path: Path, domain: str, *, shift_x: int = 0, seed: int = 0,
                  config: dict | None = None, gain: float = 1.0) -> Path:
    cfg = {**refiner_config(load_params(params_path), domain), **(config or {})}
    refiner = set_refiner(Refiner(cfg["in_channels"], cfg["channels"], cfg["blocks"]), shift_x, seed, gain=gain)
    save_refiner(path, refiner, cfg, steps=7)
    return path
