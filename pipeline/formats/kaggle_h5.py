"""Kaggle eye-gaze h5 files (used by several SimGAN reimplementations) -> 55x35 grey eye crops.

Facts (docs/formats.md): `gaze.h5` (UnityEyes) has a group `image` whose entries are 35x55 uint8
crops and a dataset `look_vec` (N, 3) in UnityEyes camera axes (y up), row i belonging to the
i-th entry in natural order (img2 before img10); `real_gaze.h5` (MPIIGaze) has the group `image`.
Items are slices `(path, start, stop)` of the group so large files decode in parallel.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import h5py
import numpy as np

from pipeline.crops import eyes as crops
from pipeline.formats import eye_sample, gaze_labels, rel_source, reject, sample_key, vector_length

CHUNK = 1000


def natural_key(name: str) -> list:
    """img2 before img10: the order the entries were written in, which look_vec's rows follow."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _image_names(f: h5py.File) -> list[str]:
    """The image entries in natural order (h5py lists them by bytes: img10 before img2)."""
    group = f.get("image")
    if not isinstance(group, h5py.Group):
        raise ValueError("missing group 'image'")
    return sorted(group.keys(), key=natural_key)


def list_slices(path: str | Path, chunk: int = CHUNK) -> list[tuple[str, int, int]]:
    """Items for `read_slice`; an unreadable file becomes one item that is rejected on read."""
    try:
        with h5py.File(path, "r") as f:
            n = len(_image_names(f))
    except (OSError, ValueError):
        return [(str(path), 0, 0)]
    return [(str(path), a, min(a + chunk, n)) for a in range(0, n, chunk)] or [(str(path), 0, 0)]


def look_vec_labels(look: np.ndarray) -> dict | None:
    look = np.asarray(look, float)
    if look.shape[-1] < 3 or not np.isfinite(look[:3]).all():
        return None
    length = vector_length(look[:3])
    if length < 1e-6:
        return None
    x, y, z = look[:3] / length
    return {"gaze": gaze_labels(math.asin(float(np.clip(y, -1, 1))), math.atan2(-x, -z))}


def read_slice(item: tuple[str, int, int], root: str, out_wh=crops.OUT_SIZE) -> list:
    """Entries [start, stop) of an h5 file -> Samples (labelled when look_vec is present)."""
    path, start, stop = item
    source = rel_source(path, root)
    try:
        with h5py.File(path, "r") as f:
            names = _image_names(f)
            group = f["image"]
            look = f["look_vec"] if "look_vec" in f else None
            if look is not None and len(look) != len(names):
                raise ValueError(f"look_vec has {len(look)} rows for {len(names)} images")
            if not names:
                raise ValueError("group 'image' is empty")
            out = []
            for i in range(start, stop):
                out.append(_record(group[names[i]][()], None if look is None else look[i],
                                   f"{source}#image/{names[i]}", Path(path).stem, names[i], out_wh))
            return out
    except (OSError, ValueError, KeyError) as e:
        return [reject(source, f"not a usable eye-gaze h5 file: {e}")]


def _record(image, look, src: str, stem: str, name: str, out_wh) -> object:
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.dtype != np.uint8 or image.shape != (35, 55):
        return reject(src, f"image is {image.dtype} {image.shape}, expected uint8 (35, 55)")
    labels = None
    if look is not None:
        labels = look_vec_labels(look)
        if labels is None:
            return reject(src, f"bad look_vec {np.asarray(look).tolist()}")
    meta = crops.whole_image_meta((55, 35), out_wh)
    return eye_sample(sample_key("h5", f"{stem}-{name}"), crops.apply_crop(image, meta), src, meta, labels)
