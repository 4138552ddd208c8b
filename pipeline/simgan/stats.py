"""Low-level appearance statistics: does the refined set move from synthetic towards real?

Cheap, interpretable numbers beside the grid (the realism stage measures it properly), each
computed per image and then averaged: brightness (mean), the spread of brightness across
images (exposure variety), contrast (per-image standard deviation), sharpness (mean gradient
magnitude; blur lowers it) and noise (high-frequency energy |x - 3x3 box blur(x)|).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def appearance(x: torch.Tensor) -> dict[str, float]:
    """Statistics of a batch (N, 1, H, W) of [-1, 1] images."""
    x = x.float()
    means = x.mean(dim=(1, 2, 3))
    dx = (x[..., :, 1:] - x[..., :, :-1]).abs().mean()
    dy = (x[..., 1:, :] - x[..., :-1, :]).abs().mean()
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return {"brightness": means.mean().item(), "brightness_spread": means.std().item(),
            "contrast": x.std(dim=(1, 2, 3)).mean().item(), "gradient": ((dx + dy) / 2).item(),
            "high_freq": (x - blurred).abs().mean().item()}


def gap_closed(synthetic: dict[str, float], refined: dict[str, float], real: dict[str, float]) -> dict[str, float]:
    """Per statistic, the fraction of the synthetic->real gap the refiner closed (1 = all, <0 = worse)."""
    return {k: (1 - abs(refined[k] - real[k]) / abs(synthetic[k] - real[k])) if abs(synthetic[k] - real[k]) > 1e-9
            else 0.0 for k in synthetic}
