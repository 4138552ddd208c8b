"""The SimGAN refiner R (Shrivastava et al. 2017, §3.1 and appendix).

Fully convolutional with no striding or pooling, so R(x) has x's size and every output pixel
depends only on a local window of x (receptive field 3 + 4 * blocks pixels): refinement
changes appearance, not geometry, which is what keeps the annotations valid.

Optional `noise_channels` (0 = the paper's R) append deterministic pseudo-random fields to the
input: a hash of each pixel's position, its 8-bit value and the image's content. A deterministic
R fed only a clean render cannot make sensor noise; with these fields it can (shaping, scaling
and correlating them), while R(x) stays a pure function of x, so refining is reproducible.
"""
from __future__ import annotations

import torch
from torch import nn


def _mix32(h: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash (lowbias32, C. Wellons) on int64 tensors, exact on every device."""
    mask = 0xFFFFFFFF
    h = h ^ (h >> 16)
    h = (h * 0x7FEB352D) & mask
    h = h ^ (h >> 15)
    h = (h * 0x846CA68B) & mask
    return h ^ (h >> 16)


def pseudo_noise(x: torch.Tensor, channels: int) -> torch.Tensor:
    """(N, channels, H, W) uniform noise in [-1, 1) that is a deterministic function of x."""
    n, _, h, w = x.shape
    levels = ((x[:, :1].detach().float().clamp(-1, 1) + 1) * 127.5).round().long()  # (N, 1, H, W)
    image_seed = _mix32(levels.flatten(1).sum(1) & 0xFFFFFFFF)[:, None, None, None]
    iy = torch.arange(h, device=x.device)[:, None]
    ix = torch.arange(w, device=x.device)[None, :]
    k = torch.arange(channels, device=x.device)[:, None, None]
    h32 = _mix32((levels * 0x9E3779B1 + image_seed + _mix32(iy * 0x10001 + ix * 0x3C6EF372 + k * 0x1B873593))
                 & 0xFFFFFFFF)
    return (h32.float() / 2.0 ** 31 - 1).to(x.dtype)


class ResnetBlock(nn.Module):
    """Two 3x3 convolutions with an identity skip (the paper's ResNet block)."""

    def __init__(self, channels: int, padding: str = "zeros"):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode=padding)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.conv2(torch.relu(self.conv1(x))))


class Refiner(nn.Module):
    """3x3 conv to `channels` maps, `blocks` ResNet blocks, 1x1 conv to the input channels, tanh.

    Inputs and outputs are images in [-1, 1] of shape (N, in_channels, H, W), any H, W.
    `padding` is the convolutions' padding mode: with zeros (the paper's), each of the 9 padded
    convolutions sees a dark frame, and R learns a visible border that D can use as a tell;
    "replicate" extends the image instead.
    """

    def __init__(self, in_channels: int = 1, channels: int = 64, blocks: int = 4, noise_channels: int = 0,
                 padding: str = "zeros"):
        super().__init__()
        self.noise_channels = noise_channels
        self.stem = nn.Conv2d(in_channels + noise_channels, channels, 3, padding=1, padding_mode=padding)
        with torch.no_grad():  # R starts deaf to the noise: it learns the identity as fast as without it
            self.stem.weight[:, in_channels:].zero_()
        self.blocks = nn.Sequential(*(ResnetBlock(channels, padding) for _ in range(blocks)))
        self.head = nn.Conv2d(channels, in_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.noise_channels:
            x = torch.cat([x, pseudo_noise(x, self.noise_channels)], dim=1)
        h = self.blocks(torch.relu(self.stem(x)))
        return torch.tanh(self.head(h))


def refiner_flops(channels: int, blocks: int, height: int, width: int, in_channels: int = 1,
                  noise_channels: int = 0) -> int:
    """Forward FLOPs (2 per multiply-add) of one image through `Refiner`: every conv keeps H x W."""
    macs_per_pixel = 9 * (in_channels + noise_channels) * channels + blocks * 2 * 9 * channels * channels + channels * in_channels
    return 2 * macs_per_pixel * height * width
