"""The SimGAN refiner R (Shrivastava et al. 2017, §3.1 and appendix).

Fully convolutional with no striding or pooling, so R(x) has x's size and every output pixel
depends only on a local window of x (receptive field 3 + 4 * blocks pixels): refinement
changes appearance, not geometry, which is what keeps the annotations valid.
"""
from __future__ import annotations

import torch
from torch import nn


class ResnetBlock(nn.Module):
    """Two 3x3 convolutions with an identity skip (the paper's ResNet block)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.conv2(torch.relu(self.conv1(x))))


class Refiner(nn.Module):
    """3x3 conv to `channels` maps, `blocks` ResNet blocks, 1x1 conv to the input channels, tanh.

    Inputs and outputs are images in [-1, 1] of shape (N, in_channels, H, W), any H, W.
    """

    def __init__(self, in_channels: int = 1, channels: int = 64, blocks: int = 4):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.blocks = nn.Sequential(*(ResnetBlock(channels) for _ in range(blocks)))
        self.head = nn.Conv2d(channels, in_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(torch.relu(self.stem(x)))
        return torch.tanh(self.head(h))


def refiner_flops(channels: int, blocks: int, height: int, width: int, in_channels: int = 1) -> int:
    """Forward FLOPs (2 per multiply-add) of one image through `Refiner`: every conv keeps H x W."""
    macs_per_pixel = 9 * in_channels * channels + blocks * 2 * 9 * channels * channels + channels * in_channels
    return 2 * macs_per_pixel * height * width
