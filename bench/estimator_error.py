"""The one estimator run the benches share: train on a labelled set with the stage's budget, then
measure on the real_val split (settings are chosen there; real_test is read by evaluate alone) (as train_estimator@ and evaluate@ do, without MLflow or files).
Hands also get the mean joint error over the frames whose crop holds the hand
(bench/hand_error_parts.py: a depth-centred crop can land on something else)."""
from __future__ import annotations

import torch

from bench.hand_error_parts import missed_hands
from pipeline.estimate.data import LabelledSplit
from pipeline.estimate.evaluate import evaluate_samples
from pipeline.estimate.model import estimator_config
from pipeline.estimate.train import fit
from pipeline.params import TrainEstimator

ERROR = {"eyes": "mean_angular_error_deg", "hands": "mean_joint_error_mm"}
HAND_IN_CROP = "mean_joint_error_mm_hand_in_crop"


def fit_estimator(domain: str, train: LabelledSplit, cfg: TrainEstimator, seed: int, device: torch.device):
    """The stage's estimator for `train`'s crops, trained with `cfg`'s budget and `seed`."""
    model, _ = fit(estimator_config(domain, cfg.width, train.images.shape[2:], cfg.equalize), train, cfg, seed, device)
    return model


def real_val_metrics(domain: str, train: LabelledSplit, val: LabelledSplit, cfg: TrainEstimator, seed: int,
                      device: torch.device) -> dict:
    model = fit_estimator(domain, train, cfg, seed, device)
    metrics, _, per_sample = evaluate_samples(domain, model, val, device, cfg.precision)
    if domain == "hands":
        in_crop = ~missed_hands(val.targets)
        metrics[HAND_IN_CROP] = float(per_sample["error_mm"][in_crop].mean())
    return metrics
