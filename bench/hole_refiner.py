"""A refiner whose holes are drawn at random: does it earn the sensor's hand gain? (a prototype)

bench/hand_gap.py shows the hand gap a refiner could close is all missing depth, scattered at
random along depth edges; the pipeline's R, even with cheap holes (`hole_cost`) and pseudo-noise
inputs, cuts the cheapest holes instead (runs along the forearm). This R adds a hole head: per
pixel a logit l, and the pixel becomes a hole (+1, the far plane) when l + logit(u) > 0, u a
pseudo-noise field of the input (so a Bernoulli(sigmoid(l)) draw that is still a pure function
of x: same input, same bytes). Training passes the relaxed draw's gradient through the hard one
(straight-through Gumbel-sigmoid), so D and the hole price set each place's hole rate, and
scattering is what the parametrization makes easy. Runs bench/refiner_length.py with it:

    python -m bench.hole_refiner --domain hands --steps 200 --no-synthetic --set noise_channels=4

(the pipeline's self-regularization, a hole costing its full depth jump: real_val 40.56 mm, 0.88x
synthetic, check passed; a fixed `hole_cost` price makes R erase the hand, BENCHMARKS.md)
"""
from __future__ import annotations

import sys

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.nets.refiner import Refiner, pseudo_noise

START_LOGIT = -4.0  # ~2 % holes anywhere at the start; pretraining (self-regularization) lowers it
TEMPERATURE = 0.5


class HoleRefiner(Refiner):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hole = nn.Conv2d(self.head.in_channels, 1, 1)
        nn.init.zeros_(self.hole.weight)
        nn.init.constant_(self.hole.bias, START_LOGIT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        source = x
        if self.margin:
            x = F.pad(x, (self.margin,) * 4, mode="replicate")
        if self.noise_channels:
            x = torch.cat([x, pseudo_noise(x, self.noise_channels)], dim=1)
        h = self.blocks(torch.relu(self.stem(x)))
        depth = torch.tanh(self.head(h)).float()
        # a field of its own: the last of noise_channels + 1 fields of the unpadded input
        u = ((pseudo_noise(source, self.noise_channels + 1)[:, -1:].float() + 1) / 2).clamp(1e-4, 1 - 1e-4)
        z = self.hole(h).float() + torch.log(u) - torch.log1p(-u)
        soft = torch.sigmoid(z / TEMPERATURE)
        hole = (z > 0).float() + (soft - soft.detach())  # exactly 0 or 1 forward
        return (depth * (1 - hole) + hole).to(source.dtype)


def build_hole_refiner(config: dict) -> HoleRefiner:
    return HoleRefiner(config["in_channels"], config["channels"], config["blocks"], config["noise_channels"],
                       config["padding"])


def main() -> None:
    import pipeline.simgan.run as run
    from bench import refiner_length
    run.build_refiner = build_hole_refiner  # the SimGAN that refiner_length builds gets this R
    refiner_length.__doc__ = __doc__
    refiner_length.main()


if __name__ == "__main__":
    sys.exit(main())
