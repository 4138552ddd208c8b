"""A refiner file set to a known function (near-identity, or a one-pixel shift), saved in the
team's format, so the refine tests can assert what refinement did."""
from __future__ import annotations

from pathlib import Path

import torch

from pipeline.nets.refiner import Refiner
from pipeline.params import load_params
from pipeline.simgan.io import refiner_config, save_refiner


def set_refiner(refiner: Refiner, shift_x: int = 0, seed: int = 0, noise: float = 0.02, gain: float = 1.0) -> Refiner:
    """R(x) = tanh(gain * x moved left by `shift_x` px) plus small random weights: a known refinement
    (gain 3 keeps a hand crop's +1 background above 0.99, as a trained R does).

    The stem copies +x and -x into two maps (ReLU keeps both halves), the blocks' convs are
    near zero so the skips carry them through, and the head takes their difference.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in refiner.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * noise)
        refiner.stem.weight[0, 0, 1, 1 + shift_x] += 1
        refiner.stem.weight[1, 0, 1, 1 + shift_x] -= 1
        refiner.head.weight[0, 0] += gain
        refiner.head.weight[0, 1] -= gain
    return refiner


def write_refiner(path: Path, params_path: Path, domain: str, *, shift_x: int = 0, seed: int = 0,
                  config: dict | None = None, gain: float = 1.0) -> Path:
    cfg = {**refiner_config(load_params(params_path), domain), **(config or {})}
    refiner = set_refiner(Refiner(cfg["in_channels"], cfg["channels"], cfg["blocks"]), shift_x, seed, gain=gain)
    save_refiner(path, refiner, cfg, steps=7)
    return path
