"""A preview grid for people to look at: synthetic crops above, real-like crops below.

The crops come through the same readers ingest uses, so the preview shows what the pipeline
trains on, not the raw renders.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.formats import mpiigaze, unityeyes
from pipeline.shards import Sample


def _first_crops(records, n: int) -> list[np.ndarray]:
    return [r.image for r in records if isinstance(r, Sample)][:n]


def preview_crops(raw_root: Path, n: int = 16) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Up to n synthetic and n real-like crops from a simulated (or real) raw eye folder."""
    syn_dir, real_dir = Path(raw_root) / "synthetic", Path(raw_root) / "real"
    syn = []
    for path in unityeyes.list_renders(syn_dir)[: 2 * n]:
        syn += _first_crops(unityeyes.read_item(path, str(syn_dir), 180.0), 1)
    days = mpiigaze.list_day_files(real_dir)
    real = []
    for path in days:  # a few from every day file, for variety of people and sessions
        real += _first_crops(mpiigaze.read_mat(path, str(real_dir))[::7], max(2, -(-n // max(len(days), 1))))
        if len(real) >= n:
            break
    return syn[:n], real[:n]


def grid(images: list[np.ndarray], cols: int, scale: int) -> np.ndarray:
    h, w = images[0].shape
    rows = -(-len(images) // cols)
    canvas = np.full((rows * h, cols * w), 255, np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        canvas[r * h:(r + 1) * h, c * w:(c + 1) * w] = im
    return cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)


def write_preview(raw_root: Path, out_png: Path, n: int = 16, cols: int = 8, scale: int = 3) -> Path:
    """reports/figures/simulate-eyes.png: titled grids of synthetic and real-like crops."""
    syn, real = preview_crops(raw_root, n)
    blocks = []
    for title, images in (("synthetic (UnityEyes-style renders)", syn), ("real-like (MPIIGaze-style camera)", real)):
        if not images:
            continue
        body = grid(images, cols, scale)
        head = np.full((24, body.shape[1]), 255, np.uint8)
        cv2.putText(head, title, (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1, cv2.LINE_AA)
        blocks += [head, body]
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out_png), np.vstack(blocks) if blocks else np.full((24, 24), 255, np.uint8))
    return out_png
