"""Evaluate an estimator on a labelled split: predictions -> the paper's measures.

Hands predictions are undone back to the 640x480 frame before measuring: crop-normalized ->
crop pixels and depth mm (estimate.data.decode_hand_targets) -> frame uvd (the crop's own inverse,
pipeline.crops.hands) -> camera xyz mm (NYU intrinsics stored in the crop meta). The truth goes
through the same uncrop for the pixel measure and is the labelled joints_xyz for the mm measure.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from pipeline.crops.hands import uncrop_uvd
from pipeline.estimate.data import LabelledSplit, decode_hand_targets
from pipeline.estimate.metrics import gaze_metrics, gaze_per_sample, hand_metrics, hand_per_sample
from pipeline.estimate.train import predict
from pipeline.formats.nyu import uvd_to_xyz


def hand_frame_joints(crop_uvd: np.ndarray, metas: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(frame uv px (N, J, 2), camera xyz mm (N, J, 3)) from crop-pixel uvd (N, J, 3).
    Each sample has its own crop (and intrinsics, which the crop dict carries)."""
    frame = np.stack([uncrop_uvd(uvd, m["crop"]) for uvd, m in zip(crop_uvd, metas)])
    xyz = np.stack([uvd_to_xyz(f, m["crop"]) for f, m in zip(frame, metas)])
    return frame[..., :2], xyz


def evaluate(domain: str, model: nn.Module, split: LabelledSplit, device: torch.device,
             precision: str = "auto") -> tuple[dict, list[dict]]:
    """(metrics, curve rows) of `model` on `split` (deterministic: eval mode, fixed batches)."""
    metrics, curve, _ = evaluate_samples(domain, model, split, device, precision)
    return metrics, curve


def evaluate_samples(domain: str, model: nn.Module, split: LabelledSplit, device: torch.device,
                     precision: str = "auto") -> tuple[dict, list[dict], dict[str, np.ndarray]]:
    """(metrics, curve rows, per-sample columns in split order: metrics.PER_SAMPLE) of `model` on `split`."""
    out = predict(model, split.images, device, precision)
    if domain == "eyes":
        return (*gaze_metrics(out, split.targets), gaze_per_sample(out, split.targets))
    pred_uv, pred_xyz = hand_frame_joints(decode_hand_targets(out, split.metas), split.metas)
    true_uvd = np.array([m["labels"]["joints_uvd"] for m in split.metas], np.float64)
    true_uv, _ = hand_frame_joints(true_uvd, split.metas)
    true_xyz = np.array([m["labels"]["joints_xyz"] for m in split.metas], np.float64)
    return (*hand_metrics(pred_xyz, true_xyz, pred_uv, true_uv),
            hand_per_sample(pred_xyz, true_xyz, pred_uv, true_uv))
