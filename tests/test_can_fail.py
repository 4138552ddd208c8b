"""Checks that can fail: an estimator that learned nothing must not pass as one that did.

The oracle (the gaze estimator trained on labelled real eyes with the stage's code) must beat a
constant predictor (the training labels' mean) on real_val by a clear margin. The fixture's eyes
carry a dark iris disc whose place follows (pitch, yaw), so a working estimator can learn gaze.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from support.samples import write_split
from pipeline.estimate.data import load_labelled
from pipeline.estimate.evaluate import evaluate
from pipeline.estimate.metrics import angular_error_deg
from pipeline.estimate.model import estimator_config
from pipeline.estimate.train import fit
from pipeline.params import TrainEstimator

CPU = torch.device("cpu")


def test_oracle_beats_a_constant_predictor_by_a_margin(tmp_path: Path):
    train = load_labelled("eyes", write_split(tmp_path, "eyes", "real_train", 256, 1, style=1.0, prefix="r"))
    val = load_labelled("eyes", write_split(tmp_path, "eyes", "real_val", 128, 2, style=1.0, prefix="v"))
    cfg = TrainEstimator(epochs=6, batch_size=32, max_samples=256, width=8, threads=2)
    model, _ = fit(estimator_config("eyes", cfg.width, train.images.shape[2:]), train, cfg, 0, CPU)
    oracle = evaluate("eyes", model, val, CPU, cfg.precision)[0]["mean_angular_error_deg"]
    constant = angular_error_deg(np.tile(train.targets.mean(0), (len(val.targets), 1)), val.targets).mean()
    assert oracle < 0.6 * constant, (oracle, constant)
