"""Running means of step metrics between two log points, kept as tensors (no device sync per step)."""
from __future__ import annotations

import math

import torch

from pipeline.errors import PipelineError


class MetricWindow:
    def __init__(self):
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, metrics: dict[str, torch.Tensor]) -> None:
        for k, v in metrics.items():
            self.sums[k] = self.sums.get(k, 0) + v.detach().float()
            self.counts[k] = self.counts.get(k, 0) + 1

    def means(self) -> dict[str, float]:
        return {k: (s / self.counts[k]).item() for k, s in self.sums.items()}

    def pop(self) -> dict[str, float]:
        out = self.means()
        self.sums, self.counts = {}, {}
        return out


def check_finite(values: dict[str, float], step: int, where: str) -> None:
    """Stop a diverged run instead of writing a useless model (the message says what to change)."""
    bad = {k: v for k, v in values.items() if not math.isfinite(v)}
    if bad:
        raise PipelineError(f"{where}: training diverged by step {step}: "
                            + ", ".join(f"{k}={v}" for k, v in bad.items())
                            + " (lower lr_r / lr_d, or use precision: fp32)")
