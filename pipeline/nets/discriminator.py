"""SimGAN discriminators: the paper's local (patch) D and a global D for the ablation.

Both return logits of shape (N, 2, h, w) (class 1 = real, 0 = refined) so one loss serves
both: the local D gives one logit pair per image patch (9x14 for a 35x55 eye), the global D
a single pair per image (h = w = 1).
"""
from __future__ import annotations

import torch
from torch import nn


def _trunk(in_channels: int, width: float) -> tuple[nn.Sequential, int]:
    """The paper's D layers: conv 96 3x3 s2, conv 64 3x3 s2, maxpool 3x3 s1, conv 32 3x3, conv 32 1x1.

    `width` scales every layer's maps (1.0 = paper). Padding 1 keeps the map at ceil(H/4) x ceil(W/4).
    """
    c1, c2, c3 = (max(1, round(c * width)) for c in (96, 64, 32))
    trunk = nn.Sequential(
        nn.Conv2d(in_channels, c1, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),
        nn.MaxPool2d(3, stride=1, padding=1),
        nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(),
        nn.Conv2d(c3, c3, 1), nn.ReLU(),
    )
    return trunk, c3


class LocalDiscriminator(nn.Module):
    """Patch logits: each output pixel classifies one receptive-field patch of the input."""

    def __init__(self, in_channels: int = 1, width: float = 1.0):
        super().__init__()
        self.trunk, c = _trunk(in_channels, width)
        self.head = nn.Conv2d(c, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))


class GlobalDiscriminator(nn.Module):
    """The ablation: the same trunk, then a linear layer over the whole (pooled) feature map."""

    def __init__(self, in_channels: int = 1, width: float = 1.0, pooled: tuple[int, int] = (4, 4)):
        super().__init__()
        self.trunk, c = _trunk(in_channels, width)
        self.pool = nn.AdaptiveAvgPool2d(pooled)
        self.head = nn.Linear(c * pooled[0] * pooled[1], 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(self.trunk(x)).flatten(1)
        return self.head(h)[:, :, None, None]


def build_discriminator(kind: str, in_channels: int = 1, width: float = 1.0) -> nn.Module:
    if kind == "local":
        return LocalDiscriminator(in_channels, width)
    if kind == "global":
        return GlobalDiscriminator(in_channels, width)
    raise ValueError(f"unknown discriminator {kind!r}; expected 'local' or 'global'")
