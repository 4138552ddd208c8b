"""The one home for image conversions shared by stages, cards and figures."""
from __future__ import annotations

import numpy as np


def to_uint8(x) -> np.ndarray:
    """Images in [-1, 1] (NumPy or torch, any shape) -> uint8 0..255, clipped and rounded."""
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().float().cpu().numpy()
    return np.clip(np.rint((np.asarray(x, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def tile(tiles: np.ndarray, gap: int = 2, scale: int = 1) -> np.ndarray:
    """(rows, cols, h, w) uint8 tiles -> one image, white `gap` pixels between, upscaled `scale`x
    by nearest neighbour (small crops stay legible without resampling texture)."""
    tiles = np.pad(tiles, ((0, 0), (0, 0), (0, gap), (0, gap)), constant_values=255)
    rows, cols, h, w = tiles.shape
    grid = tiles.transpose(0, 2, 1, 3).reshape(rows * h, cols * w)
    grid = grid[:grid.shape[0] - gap, :grid.shape[1] - gap]
    return np.kron(grid, np.ones((scale, scale), np.uint8)) if scale > 1 else grid
