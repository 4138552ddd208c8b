"""Fixed probe images for what training reports: the grid, mean |R(x)-x|, D accuracy, appearance.

The probe is read once (main rank): PROBE_SIZE images spread over each split, so every number
and grid of a run, and of a resumed run, is computed on the same images.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pipeline.nets.gaze import equalize_hist
from pipeline.simgan.data import probe_images
from pipeline.simgan.grid import grid_image
from pipeline.simgan.losses import REAL, REFINED, patch_accuracy
from pipeline.simgan.stats import appearance, gap_closed
from pipeline.simgan.trainer import SimGAN

PROBE_SIZE, GRID_ROWS, CHANGE_SIZE = 256, 8, 64


def grid_rows(images: torch.Tensor) -> torch.Tensor:
    return images[:: max(1, len(images) // GRID_ROWS)][:GRID_ROWS]


@dataclass
class Probe:
    synthetic: torch.Tensor
    real: torch.Tensor
    # eyes: real patches are histogram-equalized (MPIIGaze's normalization) and renders are not, so
    # raw gradient and high-frequency energy grow with contrast; equalized alike, only detail is left
    equalized_view: bool = False

    @classmethod
    def read(cls, synthetic_split: Path, real_split: Path, domain: str) -> "Probe":
        return cls(probe_images(synthetic_split, domain, PROBE_SIZE), probe_images(real_split, domain, PROBE_SIZE),
                   equalized_view=domain == "eyes")

    def mean_change(self, gan: SimGAN) -> float:
        """mean |R(x) - x| on the first CHANGE_SIZE probe images (cheap enough for every log step)."""
        x = self.synthetic[:CHANGE_SIZE]
        return (gan.refine(x).cpu() - x).abs().mean().item()

    def grid(self, gan: SimGAN) -> np.ndarray:
        rows = grid_rows(self.synthetic)
        return grid_image(rows, gan.refine(rows).cpu(), grid_rows(self.real))

    @torch.no_grad()
    def evaluate(self, gan: SimGAN) -> dict:
        """Final numbers: mean |R(x)-x|, D's patch accuracy on real and refined, appearance statistics
        (with equalized_view, also gap_closed with every set equalized), and a tone head's equalized share."""
        refined = gan.refine(self.synthetic)
        with gan.amp():
            real_logits = gan.disc(gan.prepare(self.real)).float()
            refined_logits = gan.disc(gan.prepare(refined)).float()
        sets = {"synthetic": self.synthetic, "refined": refined.cpu(), "real": self.real}
        stats = {name: appearance(x) for name, x in sets.items()}
        share = gan.final_refiner.equalized_share
        scores = {**({"equalized_share": share.item()} if share is not None else {}),
                  "mean_abs_change": (refined.cpu() - self.synthetic).abs().mean().item(),
                  "d_acc_real": patch_accuracy(real_logits, REAL).item(),
                  "d_acc_refined": patch_accuracy(refined_logits, REFINED).item(),
                  "appearance": stats, "gap_closed": gap_closed(stats["synthetic"], stats["refined"], stats["real"])}
        if self.equalized_view:
            eq = {name: appearance(equalize_hist(x)) for name, x in sets.items()}
            scores["gap_closed_equalized"] = gap_closed(eq["synthetic"], eq["refined"], eq["real"])
        return scores
