"""The one params writer of the tests: a small params.yaml for a domain's stages."""
from __future__ import annotations

from pathlib import Path

import yaml

from support.samples import EYE_SHAPE, HAND_SIZE

# train_refiner in seconds: a few steps of a thin R and D
TINY_REFINER = {"channels": 4, "blocks": 1, "d_width": 0.25, "batch_size": 8, "history_size": 32,
                "pretrain_r_steps": 3, "pretrain_d_steps": 2, "steps": 4, "log_every": 2, "grid_every": 4,
                "checkpoint_every": 3, "workers": 1, "min_mean_change": 0.0, "precision": "bf16"}
# refine on one thread (several OpenMP threads crawl on a machine busy with other work), checks wide open
TEST_REFINE = {"batch_size": 16, "workers": 1, "threads": 1, "max_label_shift": 100.0,
               "max_label_shift_p95": 1000.0, "max_joint_move_px": 100.0, "max_joint_move_px_p95": 100.0,
               "precision": "bf16", "grid_samples": 4}


def tiny_refiner(**overrides) -> dict:
    return {**TINY_REFINER, **overrides}


def write_params(path: Path, domain: str = "eyes", *, hand_size: int = HAND_SIZE, train_refiner: dict | None = None,
                 refine: dict | None = None, seed: int = 0) -> Path:
    """`seed`, the test crops' sizes, and `domain`'s train_refiner / refine sections (refine over TEST_REFINE)."""
    doc = {"seed": seed, "eyes": {"ingest": {"crop_w": EYE_SHAPE[1], "crop_h": EYE_SHAPE[0]}},
           "hands": {"ingest": {"size": hand_size}}}
    if train_refiner is not None:
        doc[domain]["train_refiner"] = train_refiner
    if refine is not None:
        doc[domain]["refine"] = {**TEST_REFINE, **refine}
    Path(path).write_text(yaml.safe_dump(doc))
    return Path(path)
