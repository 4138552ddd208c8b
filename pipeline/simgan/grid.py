"""The training grid: one row per probe image, columns synthetic | refined | |difference| | real.

|difference| is stretched to the grid's largest change (the caption-free way to make small
refinements visible); images are upscaled with nearest neighbour so 35x55 eyes stay legible.
"""
from __future__ import annotations

import numpy as np
import torch

from pipeline.images import tile, to_uint8


def grid_image(synthetic: torch.Tensor, refined: torch.Tensor, real: torch.Tensor,
               scale: int = 3, gap: int = 2) -> np.ndarray:
    """uint8 (rows, cols) image of the four columns; rows = min(len(synthetic), len(real))."""
    n = min(len(synthetic), len(real))
    diff = (refined[:n] - synthetic[:n]).abs().float()
    diff = diff / diff.max().clamp_min(1e-6) * 2 - 1  # stretch [0, max] to the display range
    tiles = np.stack([to_uint8(t[:n, 0]) for t in (synthetic, refined, diff, real)], axis=1)  # (n, 4, h, w)
    return tile(tiles, gap, scale)
