"""A preview grid for people to look at: synthetic crops above, real-like crops below.

The crops come through the same readers ingest uses, so the preview shows what the pipeline
trains on, not the raw renders.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.files import write_png
from pipeline.crops.eyes import OUT_SIZE
from pipeline.raw_source import raw_dirs
from pipeline.shards import Sample


def first_crops(folder: Path, side: str, n: int) -> list[np.ndarray]:
    """Up to n crops of any supported eye format, a few from each file for variety."""
    from pipeline.ingest.eyes import detect_format, list_items, read_item  # (ingest imports the writers)
    fmt = detect_format(folder, side)
    items = list_items(folder, fmt)
    per_item = 1 if fmt == "unityeyes" else max(2, -(-n // max(len(items), 1)))
    out: list[np.ndarray] = []
    for item in items:
        recs = [r for r in read_item(item, str(folder), fmt, 180.0, OUT_SIZE) if isinstance(r, Sample)]
        out += [r.image for r in recs[:: max(1, len(recs) // per_item)][:per_item]]
        if len(out) >= n:
            break
    return out[:n]


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
    syn_dir, real_dir = raw_dirs(raw_root)
    syn, real = first_crops(syn_dir, "synthetic", n), first_crops(real_dir, "real", n)
    blocks = []
    for title, images in (("synthetic", syn), ("real", real)):
        if not images:
            continue
        body = grid(images, cols, scale)
        head = np.full((24, body.shape[1]), 255, np.uint8)
        cv2.putText(head, title, (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1, cv2.LINE_AA)
        blocks += [head, body]
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    write_png(np.vstack(blocks) if blocks else np.full((24, 24), 255, np.uint8), out_png)
    return out_png
