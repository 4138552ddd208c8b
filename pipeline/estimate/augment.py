"""Batch augmentation for estimator training, vectorized on the batch (one grid_sample call).

- shift: a random sub-pixel translation of up to `shift_px` in each axis. Gaze is unchanged by
  it; hand joints (u, v) move with the image. The crop border is filled with the edge (eyes) or
  with background, +1 (hands).
- intensity (eyes only): contrast and brightness jitter x * (1 + a) + b, a, b ~ U(-s, s).
Depth values are never jittered: the normalized depth is metric, and the joints' d goes with it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def augment(domain: str, x: torch.Tensor, y: torch.Tensor, g: torch.Generator,
            shift_px: float, intensity: float) -> tuple[torch.Tensor, torch.Tensor]:
    n, _, h, w = x.shape
    if shift_px > 0:
        # shift in grid_sample's normalized units (align_corners=False: 2 units span the image)
        t = (torch.rand(n, 2, generator=g) * 2 - 1) * shift_px * torch.tensor([2.0 / w, 2.0 / h])
        theta = torch.zeros(n, 2, 3)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, :, 2] = -t  # out(p) = in(p - t): content moves by +t
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        if domain == "hands":
            x = F.grid_sample(x - 1.0, grid, align_corners=False, padding_mode="zeros") + 1.0
            y = y.clone()
            y[..., :2] += t[:, None, :]
        else:
            x = F.grid_sample(x, grid, align_corners=False, padding_mode="border")
    if intensity > 0 and domain == "eyes":
        a, b = (torch.rand(2, n, 1, 1, 1, generator=g) * 2 - 1) * intensity
        x = (x * (1 + a) + b).clamp(-1, 1)
    return x, y
