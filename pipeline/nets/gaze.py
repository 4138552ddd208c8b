"""Gaze CNN for 35x55 grey eye crops (SimGAN §4.1, after Zhang et al. 2015's appearance net).

The paper's layout: conv3x3 32, conv3x3 32, conv3x3 64, maxpool 3/2, conv3x3 80, conv3x3 192,
maxpool 2/2, FC 9600 -> 1000 -> 3 (unpadded convs, so a 35x55 input flattens to 192*5*10 = 9600).
`width` scales every layer: width=32 is the paper's net exactly; the CPU default (width=16,
FC 500) keeps the layout at a quarter of the conv FLOPs (~1300 vs ~340 img/s training here).
We regress (pitch, yaw) in radians instead of the 3D vector: two numbers with no unit-norm
constraint, and the angular error is computed from the vectors they define (pipeline.estimate.metrics).

`equalize=True` histogram-equalizes every input image first (cv2.equalizeHist's mapping, in torch),
as GazeML does for UnityEyes and MPIIGaze crops alike: MPIIGaze's normalized patches are already
equalized, so the net sees every training set and the real eyes on the same grey-level footing.
Inside the net, so training, evaluation and any later user of the checkpoint apply it alike.
"""
from __future__ import annotations

import torch
from torch import nn

EYE_SHAPE = (35, 55)


def _conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3), nn.ReLU(inplace=True))


class GazeNet(nn.Module):
    def __init__(self, width: int = 32, height: int = 35, width_px: int = 55, outputs: int = 2,
                 equalize: bool = False):
        super().__init__()
        self.equalize = equalize
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
        if self.equalize:
            x = equalize_hist(x)
        return self.head[1](self.head[0](self.features(x)))


def fp32_linear(layer: nn.Linear, h: torch.Tensor) -> torch.Tensor:
    """The output layer outside autocast: bf16 has ~3 significant digits, too coarse for the
    regressed coordinates (hands: 1/128 of the crop ~ 1 frame pixel), so it runs in fp32."""
    with torch.autocast(h.device.type, enabled=False):
        return layer(h.float())


def equalize_hist(x: torch.Tensor) -> torch.Tensor:
    """Per-image histogram equalization of (N, 1, H, W) grey images in [-1, 1], on their 256 uint8
    levels with cv2.equalizeHist's mapping: level -> round(255 (cdf - cdf_min) / (count - cdf_min)),
    cdf_min the count of the darkest level present; a one-level image is returned as it is."""
    n = x.shape[0]
    with torch.autocast(x.device.type, enabled=False):
        q = ((x.detach().float() + 1) * 127.5).round().clamp(0, 255).long().view(n, -1)
        hist = torch.zeros(n, 256, device=x.device).scatter_add_(1, q, torch.ones_like(q, dtype=torch.float32))
        cdf = hist.cumsum(1)
        cdf_min = cdf.gather(1, q.min(1, keepdim=True).values)  # the darkest present level's cdf
        span = cdf[:, -1:] - cdf_min
        lut = torch.where(span > 0, ((cdf - cdf_min) * (255 / span.clamp(min=1))).round(),
                          torch.arange(256, device=x.device, dtype=torch.float32).expand(n, 256))
        out = lut.gather(1, q).view_as(x) / 127.5 - 1
    return out.to(x.dtype)
