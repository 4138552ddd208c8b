"""The one estimator run the benches share: train on a labelled set with the stage's budget, then
measure on the real_val split (settings are chosen there; real_test is read by evaluate alone) (as train_estimator@ and evaluate@ do, without MLflow or files)."""
from __future__ import annotations

import torch

from pipeline.estimate.data import LabelledSplit
from pipeline.estimate.evaluate import evaluate
from pipeline.estimate.model import estimator_config
from pipeline.estimate.train import fit
from pipeline.params import TrainEstimator

ERROR = {"eyes": "mean_angular_error_deg", "hands": "mean_joint_error_mm"}


def real_val_metrics(domain: str, train: LabelledSplit, val: LabelledSplit, cfg: TrainEstimator, seed: int,
                      device: torch.device) -> dict:
    model, _ = fit(estimator_config(domain, cfg.width, train.images.shape[2:], cfg.equalize), train, cfg, seed, device)
    return evaluate(domain, model, val, device, cfg.precision)[0]
