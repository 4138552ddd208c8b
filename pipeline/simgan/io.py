"""The refiner file models/refiner-<domain>.pt (team contract) and its checked loader.

Format: {"state_dict", "config": {domain, in_channels, channels, blocks, noise_channels, padding, holes,
hole_blobs, tone, height, width}, "steps"}, saved atomically and loaded with weights_only=True (no pickle).
"""
from __future__ import annotations

from pathlib import Path

import torch

from pipeline.checkpoint_io import read_checkpoint
from pipeline.errors import PipelineError
from pipeline.files import save_torch
from pipeline.nets.refiner import Refiner
from pipeline.params import Params
from pipeline.simgan.data import crop_shape
from pipeline.tracking import file_sha256


def refiner_config(params: Params, domain: str) -> dict:
    """The architecture `params` asks for: what a refiner file must match."""
    cfg = params.domain(domain).train_refiner
    height, width = crop_shape(params, domain)
    return {"domain": domain, "in_channels": 1, "channels": cfg.channels, "blocks": cfg.blocks,
            "noise_channels": cfg.noise_channels, "padding": cfg.padding, "holes": cfg.holes,
            "hole_blobs": cfg.hole_blobs, "tone": cfg.tone, "height": height, "width": width}


def build_refiner(config: dict) -> Refiner:
    """R for a complete config (refiner_config, or a file's config with load_refiner's defaults)."""
    return Refiner(config["in_channels"], config["channels"], config["blocks"], config["noise_channels"],
                   config["padding"], config["holes"], config["hole_blobs"], config["tone"])


def save_refiner(path: str | Path, refiner: torch.nn.Module, config: dict, steps: int) -> None:
    """Only what the weights are a function of: no run id or time, so the same training gives the same bytes
    (the MLflow run is in lineage/train_refiner-<domain>.json and tagged with this file's sha256)."""
    state = {k: v.detach().cpu().contiguous() for k, v in refiner.state_dict().items()}
    save_torch({"state_dict": state, "config": dict(config), "steps": int(steps)}, path)


def load_refiner(path: str | Path, domain: str, params: Params) -> tuple[Refiner, dict]:
    """(refiner in eval mode on CPU, info) where info = {config, steps, sha256}.

    Raises PipelineError when the file is missing or unreadable, or was trained for another
    domain, architecture or crop size than `params` describe.
    """
    path = Path(path)
    saved = read_checkpoint(path, "a refiner", f"no refiner file (run train_refiner@{domain} first)")
    config = saved["config"]
    expected = refiner_config(params, domain)
    config = {"noise_channels": 0, "padding": "zeros", "holes": False, "hole_blobs": False, "tone": False,
              **config}  # files from before these options
    wrong = {k: (config.get(k), v) for k, v in expected.items() if config.get(k) != v}
    if wrong:
        detail = ", ".join(f"{k}: file has {got!r}, params want {want!r}" for k, (got, want) in wrong.items())
        raise PipelineError(f"{path}: refiner does not match params ({detail}); re-run train_refiner@{domain}")
    refiner = build_refiner(config)
    refiner.load_state_dict(saved["state_dict"])
    info = {"config": config, "steps": int(saved.get("steps", 0)), "sha256": file_sha256(path)}
    return refiner.eval(), info
