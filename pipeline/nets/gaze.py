"""Gaze CNN for 35x55 grey eye crops (SimGAN §4.1, after Zhang et al. 2015's appearance net).

The paper's layout: conv3x3 32, conv3x3 32, conv3x3 64, maxpool 3/2, conv3x3 80, conv3x3 192,
maxpool 2/2, FC 9600 -> 1000 -> 3 (unpadded convs, so a 35x55 input flattens to 192*5*10 = 9600).
`width` scales every layer: width=32 is the paper's net exactly; the CPU default (width=16,
FC 500) keeps the layout at a quarter of the conv FLOPs (~1300 vs ~340 img/s training here).
We regress (pitch, yaw) in radians instead of the 3D vector: two numbers with no unit-norm
constraint, and the angular error is computed from the vectors they define (pipeline.estimate.metrics).
"""
from __future__ import annotations

import torch
from torch import nn

EYE_SHAPE = (35, 55)


def _conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3), nn.ReLU(inplace=True))


class GazeNet(nn.Module):
    def __init__(self, width: int = 32, height: int = 35, width_px: int = 55, outputs: int = 2):
        super().__init__()
        c1, c2, c3, c4, c5 = width, width, 2 * width, (5 * width) // 2, 6 * width
        self.features = nn.Sequential(
            _conv(1, c1), _conv(c1, c2), _conv(c2, c3), nn.MaxPool2d(3, 2),
            _conv(c3, c4), _conv(c4, c5), nn.MaxPool2d(2, 2), nn.Flatten())
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, 1, height, width_px)).shape[1]
        hidden = max(64, 1000 * width // 32)
        self.head = nn.Sequential(nn.Linear(n_flat, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fp32_linear(self.head[2], self.embed(x))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations (the FC hidden layer)."""
        return self.head[1](self.head[0](self.features(x)))


def fp32_linear(layer: nn.Linear, h: torch.Tensor) -> torch.Tensor:
    """The output layer outside autocast: bf16 has ~3 significant digits, too coarse for the
    regressed coordinates (hands: 1/128 of the crop ~ 1 frame pixel), so it runs in fp32."""
    with torch.autocast(h.device.type, enabled=False):
        return layer(h.float())
