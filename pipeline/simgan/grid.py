"""The training grid: one row per probe image, columns synthetic | refined | |difference| | real.

|difference| is stretched to the grid's largest change (the caption-free way to make small
refinements visible); images are upscaled with nearest neighbour so 35x55 eyes stay legible.
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import torch


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] images (N, 1, H, W) -> uint8 (N, H, W)."""
    return ((x[:, 0].float().clamp(-1, 1) + 1) * 127.5).round().byte().cpu().numpy()


def grid_image(synthetic: torch.Tensor, refined: torch.Tensor, real: torch.Tensor,
               scale: int = 3, gap: int = 2) -> np.ndarray:
    """uint8 (rows, cols) image of the four columns; rows = min(len(synthetic), len(real))."""
    n = min(len(synthetic), len(real))
    diff = (refined[:n] - synthetic[:n]).abs().float()
    diff = diff / diff.max().clamp_min(1e-6) * 2 - 1  # stretch [0, max] to the display range
    tiles = np.stack([to_uint8(t[:n]) for t in (synthetic, refined, diff, real)], axis=1)  # (n, 4, h, w)
    tiles = np.pad(tiles, ((0, 0), (0, 0), (0, gap), (0, gap)), constant_values=255)
    n, cols, h, w = tiles.shape
    out = tiles.transpose(0, 2, 1, 3).reshape(n * h, cols * w)[:-gap, :-gap]
    return cv2.resize(out, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)


def write_png(image: np.ndarray, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    if not cv2.imwrite(str(tmp), image):
        raise OSError(f"{path}: could not write PNG")
    os.replace(tmp, path)
    return path
