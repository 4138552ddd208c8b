"""Estimator training: the same optimizer-step budget for every training set.

The budget is `epochs` passes over `max_samples` samples, counted in optimizer steps
(epochs * ceil(max_samples / batch_size)), whatever the set's size: a set smaller than the
budget is cycled through in reshuffled passes, so synthetic, refined and real-oracle models get
identical steps, batch sizes, learning-rate schedule, initial weights and augmentation stream.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.device import autocast
from pipeline.estimate.augment import augment
from pipeline.estimate.data import LabelledSplit
from pipeline.estimate.model import build_estimator
from pipeline.params import TrainEstimator


def set_threads(threads: int) -> None:
    """torch intra-op threads for this process (0 = leave torch's default: all cores)."""
    if threads:
        torch.set_num_threads(threads)


def index_stream(n: int, total: int, g: torch.Generator) -> torch.Tensor:
    """`total` sample indices: back-to-back random permutations of range(n)."""
    reps = math.ceil(total / n)
    return torch.cat([torch.randperm(n, generator=g) for _ in range(reps)])[:total]


def fit(config: dict, data: LabelledSplit, cfg: TrainEstimator, seed: int, device: torch.device,
        on_epoch: Callable[[int, dict], None] | None = None) -> tuple[nn.Module, list[dict]]:
    """Train a fresh estimator for `config` on `data`; returns (model, per-epoch history)."""
    torch.manual_seed(seed)  # same initial weights for every training set
    model = build_estimator(config).to(device, memory_format=torch.channels_last).train()
    budget = cfg.max_samples or len(data.keys)
    steps_per_epoch = math.ceil(budget / cfg.batch_size)
    total = cfg.epochs * steps_per_epoch
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=0.15)
    g = torch.Generator().manual_seed(seed)
    x_all, y_all = torch.from_numpy(data.images), torch.from_numpy(data.targets)
    order = index_stream(len(data.keys), total * cfg.batch_size, g).view(total, cfg.batch_size)
    history = []
    for epoch in range(cfg.epochs):
        losses = []
        for idx in order[epoch * steps_per_epoch:(epoch + 1) * steps_per_epoch]:
            x, y = x_all[idx], y_all[idx]
            if cfg.augment:
                x, y = augment(config["domain"], x, y, g, cfg.shift_px, cfg.intensity)
            x = x.to(device, memory_format=torch.channels_last, non_blocking=True)
            y = y.to(device, non_blocking=True)
            with autocast(device, cfg.precision):
                pred = model(x)
            loss = F.smooth_l1_loss(pred.float(), y, beta=0.02)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.detach())
        row = {"epoch": epoch + 1, "step": (epoch + 1) * steps_per_epoch,
               "train_loss": float(torch.stack(losses).mean()), "lr": float(sched.get_last_lr()[0])}
        history.append(row)
        if on_epoch:
            on_epoch(epoch + 1, row)
    return model.eval(), history


@torch.no_grad()
def predict(model: nn.Module, images: np.ndarray, device: torch.device, precision: str = "auto",
            batch_size: int = 512) -> np.ndarray:
    """Model outputs (float32 numpy) for (N, 1, H, W) images, in fixed batches: deterministic."""
    model.eval().to(device, memory_format=torch.channels_last)
    out = []
    for i in range(0, len(images), batch_size):
        x = torch.from_numpy(images[i:i + batch_size]).to(device, memory_format=torch.channels_last)
        with autocast(device, precision):
            out.append(model(x).float().cpu())
    return torch.cat(out).numpy()
