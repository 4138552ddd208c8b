"""Benchmark: estimator training and inference throughput at the params.yaml settings.

Random images of the right shape stand in for shards, so this measures the nets and the training
loop only (data loading is a one-off decode per stage). Prints one JSON line per domain with
images/s for training (augmentation included) and inference, and the projected train_estimator
time for the configured budget (epochs x max_samples).

    python -m bench.estimate [--params params.yaml] [--samples 1024] [--threads N]
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np
import torch

from pipeline.device import pick_device
from pipeline.estimate.data import LabelledSplit
from pipeline.estimate.model import estimator_config
from pipeline.estimate.train import fit, predict, set_threads
from pipeline.params import DOMAINS, load_params


def fake_split(domain: str, shape: tuple[int, int], n: int) -> LabelledSplit:
    rng = np.random.default_rng(0)
    targets = rng.uniform(-0.3, 0.3, (n, 2) if domain == "eyes" else (n, 14, 3)).astype(np.float32)
    images = rng.uniform(-1, 1, (n, 1, *shape)).astype(np.float32)
    return LabelledSplit([str(i) for i in range(n)], images, targets, [{}] * n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--samples", type=int, default=1024, help="images per timed training epoch")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: train_estimator.threads)")
    args = ap.parse_args()
    params, device = load_params(args.params), pick_device()
    for domain in DOMAINS:
        cfg = params.domain(domain).train_estimator
        set_threads(cfg.threads if args.threads is None else args.threads)
        shape = (params.eyes.ingest.crop_h, params.eyes.ingest.crop_w) if domain == "eyes" else (params.hands.ingest.size,) * 2
        data = fake_split(domain, shape, args.samples)
        config = estimator_config(domain, cfg.width, shape, cfg.equalize)
        timed = replace(cfg, epochs=1, max_samples=args.samples)
        fit(config, fake_split(domain, shape, cfg.batch_size), replace(timed, max_samples=cfg.batch_size), 0, device)  # warm-up
        t0 = time.perf_counter()
        model, _ = fit(config, data, timed, 0, device)
        train_ips = args.samples / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        predict(model, data.images, device, cfg.precision)
        infer_ips = args.samples / (time.perf_counter() - t0)
        budget = cfg.epochs * (cfg.max_samples or args.samples)
        print(json.dumps({"domain": domain, "device": device.type, "threads": torch.get_num_threads(),
                          "width": cfg.width, "precision": cfg.precision, "train_img_per_s": round(train_ips),
                          "infer_img_per_s": round(infer_ips), "budget_images": budget,
                          "projected_train_s": round(budget / train_ips, 1)}))


if __name__ == "__main__":
    main()
