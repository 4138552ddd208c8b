"""Estimator construction and checkpoints (models/estimator-<domain>-<data>.pt).

A checkpoint is `{"state_dict", "config": {"domain", "arch", "width", "height", "width_px",
"outputs"[, "equalize"]}, "data", "mlflow_run_id", "history"}` (+ "seed_state_dicts": the weights of seeds 1..N-1
when train_estimator.seeds = N > 1; "state_dict" is seed 0's), loaded with weights_only=True. Loading checks
the config against what the caller is about to feed it, so a hands model on eye crops, or a
64x64 model on 128x128 crops, is a PipelineError naming the file rather than a shape crash.
"""
from __future__ import annotations

from pathlib import Path

from torch import nn

from pipeline.checkpoint_io import read_checkpoint
from pipeline.errors import PipelineError
from pipeline.files import save_torch
from pipeline.nets.gaze import GazeNet
from pipeline.nets.handpose import N_JOINTS, HandPoseNet

ARCH = {"eyes": "gaze", "hands": "handpose"}


def estimator_config(domain: str, width: int, shape: tuple[int, int], equalize: bool = False) -> dict:
    h, w = shape
    config = {"domain": domain, "arch": ARCH[domain], "width": width, "height": h, "width_px": w,
              "outputs": 2 if domain == "eyes" else 3 * N_JOINTS}
    if domain == "eyes" and equalize:  # absent = off: checkpoints from before the option load as they were
        config["equalize"] = True
    return config


def build_estimator(config: dict) -> nn.Module:
    if config["arch"] == "gaze":
        return GazeNet(config["width"], config["height"], config["width_px"], equalize=config.get("equalize", False))
    if config["height"] != config["width_px"]:
        raise PipelineError(f"hand crops must be square, got {config['height']}x{config['width_px']}")
    return HandPoseNet(config["width"], config["height"])


def _cpu_state(model: nn.Module) -> dict:
    return {k: v.detach().cpu().float() for k, v in model.state_dict().items()}


def save_estimator(path: str | Path, model: nn.Module, config: dict, other_seeds: list[nn.Module] = (),
                   **extra) -> None:
    """Atomic torch.save of the state dict (fp32, CPU) with its config and `extra` (history, run id);
    `other_seeds`: the same training with seeds 1..N-1, evaluated beside it for the seed spread."""
    doc = {"state_dict": _cpu_state(model), "config": config, **extra}
    if other_seeds:
        doc["seed_state_dicts"] = [_cpu_state(m) for m in other_seeds]
    save_torch(doc, path)


def load_estimator(path: str | Path, domain: str, shape: tuple[int, int]) -> tuple[nn.Module, dict]:
    """(model in eval mode, checkpoint) for `domain` crops of `shape` (H, W); PipelineError on mismatch."""
    path = Path(path)
    ckpt = read_checkpoint(path, "an estimator", "model missing (run train_estimator first)")
    config = ckpt["config"]
    if config.get("domain") != domain:
        raise PipelineError(f"{path}: a model for domain {config.get('domain')!r}, asked to evaluate {domain!r}")
    if (config["height"], config["width_px"]) != tuple(shape):
        raise PipelineError(f"{path}: model expects {config['height']}x{config['width_px']} crops, "
                            f"the data has {shape[0]}x{shape[1]}")
    model = build_estimator(config)
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as e:
        raise PipelineError(f"{path}: weights do not fit the {config['arch']} net: {e}") from None
    return model.eval(), ckpt


def seed_models(ckpt: dict) -> list[nn.Module]:
    """The models of seeds 1..N-1 a checkpoint carries (none for the default single seed), in eval mode."""
    models = []
    for state in ckpt.get("seed_state_dicts", []):
        model = build_estimator(ckpt["config"])
        model.load_state_dict(state)
        models.append(model.eval())
    return models
