"""Labelled splits as in-memory arrays for the estimators.

A training set is at most a few thousand small crops (eyes 35x55, hands 64x64: tens of MB as
float32), so each split is decoded once through `pipeline.shards.read_samples`, converted by
`pipeline.crops.normalize`, and trained on from memory: no per-epoch PNG decoding.

Targets, per domain:
- eyes: (pitch, yaw) in radians, shape (N, 2).
- hands: the 14 joints in crop-normalized units, shape (N, 14, 3): u, v from crop pixels (centres
  at integers, crops/hands.py, so the crop spans [-0.5, S - 0.5]) to [-1, 1], which is
  grid_sample's align_corners=False frame, so augmentation shifts move image and joints alike;
  d = (d - centre d) / (cube / 2), the same scale as the normalized depth image.

Labels come from each sample's meta, or for the real training split (ingested without labels so
the refiner cannot read them) from data/labels/<domain>/real_train.parquet, joined by key.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from pipeline.crops import normalize
from pipeline.errors import PipelineError
from pipeline.paths import TRAINING_DATA
from pipeline.shards import read_samples



@dataclass
class LabelledSplit:
    keys: list[str]
    images: np.ndarray   # float32 (N, 1, H, W) in [-1, 1]
    targets: np.ndarray  # float32, eyes (N, 2) / hands (N, 14, 3)
    metas: list[dict]    # each sample's meta, with "labels" filled in


def read_images(domain: str, split_dir: str | Path, max_samples: int = 0, seed: int = 0):
    """(keys, images (N, 1, H, W) float32, metas) of a split, sorted by key, optionally a seeded subset."""
    samples = sorted(read_samples(split_dir, by_node=False), key=lambda s: s.key)
    if not samples:
        raise PipelineError(f"{split_dir}: the split has no samples")
    if max_samples and len(samples) > max_samples:
        pick = np.sort(np.random.default_rng(seed).choice(len(samples), max_samples, replace=False))
        samples = [samples[i] for i in pick]
    shapes = {s.image.shape for s in samples}
    if len(shapes) > 1:
        raise PipelineError(f"{split_dir}: images of several shapes {sorted(shapes)}")
    images = np.stack([normalize(domain, s.image, s.meta) for s in samples])[:, None].astype(np.float32)
    return [s.key for s in samples], images, [s.meta for s in samples]


def read_labels_table(path: str | Path) -> dict[str, dict]:
    """key -> labels dict from a labels parquet as ingest writes it (labels flattened to `labels_*`
    columns, as in the manifests); only the fields the estimators use are rebuilt."""
    path = Path(path)
    if not path.exists():
        raise PipelineError(f"{path}: labels file missing (the ingest stage writes it)")
    rows = pq.read_table(path).to_pylist()
    if rows and "key" not in rows[0]:
        raise PipelineError(f"{path}: no `key` column to join the labels to the shards by")
    return {row["key"]: {"gaze": {"pitch": row.get("labels_gaze_pitch"), "yaw": row.get("labels_gaze_yaw")},
                         "joints_uvd": row.get("labels_joints_uvd"), "joints_xyz": row.get("labels_joints_xyz")}
            for row in rows}


def attach_labels(metas: list[dict], keys: list[str], where: str, table: dict[str, dict] | None = None) -> list[dict]:
    """Metas with "labels" taken from `table` (by key) or already present; a clear error if any lack them."""
    if table is not None:
        missing = [k for k in keys if k not in table]
        if missing:
            raise PipelineError(f"{where}: {len(missing)} samples have no row in the labels file, e.g. {missing[:3]}")
        return [{**m, "labels": table[k]} for m, k in zip(metas, keys)]
    unlabelled = [k for m, k in zip(metas, keys) if not m.get("labels")]
    if unlabelled:
        raise PipelineError(f"{where}: {len(unlabelled)}/{len(keys)} samples carry no labels "
                            f"(e.g. {unlabelled[0]}); this split cannot train or evaluate an estimator")
    return metas


def encode_targets(domain: str, metas: list[dict], where: str) -> np.ndarray:
    """Regression targets from labels: eyes (N, 2) pitch/yaw; hands (N, J, 3) crop-normalized uvd."""
    try:
        if domain == "eyes":
            return np.array([[m["labels"]["gaze"]["pitch"], m["labels"]["gaze"]["yaw"]] for m in metas], np.float32)
        uvd = np.array([m["labels"]["joints_uvd"] for m in metas], np.float64)
    except (KeyError, TypeError, ValueError) as e:
        raise PipelineError(f"{where}: labels missing or malformed for domain {domain} ({e!r})") from None
    size, centre_d, half_cube = crop_scales(metas)
    uv = (2.0 * uvd[..., :2] + 1.0) / size[:, None, None] - 1.0
    d = (uvd[..., 2:] - centre_d[:, None, None]) / half_cube[:, None, None]
    return np.concatenate([uv, d], axis=-1).astype(np.float32)


def decode_hand_targets(targets: np.ndarray, metas: list[dict]) -> np.ndarray:
    """Inverse of encode_targets for hands: (N, J, 3) normalized -> crop px u, v and depth mm."""
    size, centre_d, half_cube = crop_scales(metas)
    t = targets.astype(np.float64)
    uv = ((t[..., :2] + 1.0) * size[:, None, None] - 1.0) / 2.0
    d = t[..., 2:] * half_cube[:, None, None] + centre_d[:, None, None]
    return np.concatenate([uv, d], axis=-1)


def crop_scales(metas: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    crops = [m["crop"] for m in metas]
    return (np.array([c["size"] for c in crops], np.float64),
            np.array([c["center_uvd"][2] for c in crops], np.float64),
            np.array([c["cube_mm"] for c in crops], np.float64) / 2.0)


def load_labelled(domain: str, split_dir: str | Path, *, labels_path: str | Path | None = None,
                  max_samples: int = 0, seed: int = 0) -> LabelledSplit:
    """Images and targets of a split; labels from its metas, or from `labels_path` joined by key."""
    keys, images, metas = read_images(domain, split_dir, max_samples, seed)
    table = read_labels_table(labels_path) if labels_path else None
    where = f"{split_dir}" + (f" + {labels_path}" if labels_path else "")
    metas = attach_labels(metas, keys, where, table)
    return LabelledSplit(keys, images, encode_targets(domain, metas, where), metas)


def training_paths(data_root: str | Path, domain: str, data: str) -> tuple[Path, Path | None]:
    """(split dir, labels parquet or None) of a training set: synthetic | refined | real_train."""
    if data not in TRAINING_DATA:
        raise PipelineError(f"unknown training data {data!r}; expected one of {', '.join(TRAINING_DATA)}")
    root = Path(data_root)
    labels = root / "labels" / domain / "real_train.parquet" if data == "real_train" else None
    return root / "shards" / domain / data, labels
