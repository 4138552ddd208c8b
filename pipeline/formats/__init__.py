"""Readers of external eye (and hand) datasets. Each eye reader turns one item (a file, or a slice
of one) into a list of `Sample | Reject`: a bad record becomes a `Reject` naming the file and
what is wrong, never an exception and never a silent drop.

Eye conventions shared by every reader (so labels from different datasets agree):
- crop: 55x35 grey, the subject's LEFT eye as seen by the camera (MPIIGaze right eyes mirrored);
- gaze pitch > 0 looks up (iris moves up in the crop); yaw < 0 looks towards the crop's +x
  (right side of the image), as pitch = asin(-v.y), yaw = atan2(-v.x, -v.z) of
- gaze vector `v` in the normalized camera frame (x right, y down, z away from the camera),
  which is MPIIGaze's own frame; UnityEyes' look_vec (y up) maps to (x, -y, z).
"""
from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import numpy as np

KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def sample_key(prefix: str, name: str) -> str:
    """A shard key from a file name; unsafe characters replaced, with a hash so keys stay unique."""
    safe = KEY_UNSAFE.sub("_", name)
    if safe != name:
        safe += "-" + hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{prefix}-{safe}"


def rel_source(path: str | Path, root: str | Path) -> str:
    """Source path relative to the dataset root (stable across checkouts)."""
    path, root = Path(path), Path(root)
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def vector_length(v) -> float:
    """Euclidean length of one short vector, the same to the last bit on every host.

    Not np.linalg.norm: on a 1-D array it is a BLAS dot, and OpenBLAS picks its kernel per CPU
    (Haswell, SkylakeX, ...), whose sums round differently; that put the host into the last digit
    of UnityEyes yaw labels, so the same renders gave different shard bytes on different machines."""
    return math.hypot(*(float(c) for c in v))


def pitchyaw_to_vector(pitch, yaw) -> np.ndarray:
    """Gaze angles -> unit vector(s) in the normalized camera frame (x right, y down, z away)."""
    pitch, yaw = np.asarray(pitch, float), np.asarray(yaw, float)
    return np.stack([-np.cos(pitch) * np.sin(yaw), -np.sin(pitch), -np.cos(pitch) * np.cos(yaw)], -1)


def vector_to_pitchyaw(v) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of `pitchyaw_to_vector` (v need not be unit length)."""
    v = np.asarray(v, float)
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return np.arcsin(np.clip(-v[..., 1], -1, 1)), np.arctan2(-v[..., 0], -v[..., 2])


def gaze_labels(pitch: float, yaw: float) -> dict:
    vec = pitchyaw_to_vector(pitch, yaw)
    return {"pitch": float(pitch), "yaw": float(yaw), "vector": [round(float(c), 6) for c in vec]}


def eye_sample(key: str, crop: np.ndarray, source: str, crop_meta: dict, labels: dict | None):
    """An eye Sample; `split` is set later by ingest. labels=None for unlabeled real crops."""
    from pipeline.shards import Sample  # lazily: shards pulls in webdataset and torch (~2.5 s per process),
    # which the simulator's worker processes, importing these formats to write files, never need
    meta = {"id": key, "domain": "eyes", "source": source, "crop": crop_meta}
    if labels is not None:
        meta["labels"] = labels
    return Sample(key, crop, meta)


def reject(source: str, reason: str):
    from pipeline.shards import Reject  # lazily, as in eye_sample
    return Reject(source, reason)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"  # the IEND chunk's type and CRC: the last 8 bytes of every complete PNG


def truncated_png(data: bytes) -> bool:
    """A PNG cut short (in its IDAT, say): libpng may still hand back a partly grey image."""
    return data[:8] == PNG_SIGNATURE and not data.rstrip(b"\0\r\n ").endswith(PNG_END)


def rounded(points: np.ndarray, nd: int = 3) -> list:
    return np.round(np.asarray(points, float), nd).tolist()
