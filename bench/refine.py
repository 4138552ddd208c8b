"""Refine throughput: the whole stage (read, decode, refine, encode, write) vs R's pure forward.

Both figures come from the same run, machine, refiner, batch size and precision: the pure
forward runs on in-memory tensors of the split's first images in one process with as many
threads as the stage's workers have together; the stage is `refine_split` with params' workers
(worker start-up included), so their ratio is what the I/O and PNG work costs. Target: >= 0.8x.
On a machine busy with other work use --threads 1: OpenMP threads that wait on descheduled
siblings make multi-threaded figures meaningless there.

    python -m bench.refine eyes                          # 4000 generated crops, random R of params' size
    python -m bench.refine eyes --n 512 --iters 3        # quick check
    python -m bench.refine hands --workers 1 --threads 1 # one core, forward vs stage
    python -m bench.refine eyes --synthetic data/shards/eyes/synthetic --model models/refiner-eyes.pt
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from pipeline.crops import normalize
from pipeline.device import autocast, memory_format, pick_device
from pipeline.params import load_params
from pipeline.refine.split import refine_split
from pipeline.shards import Sample, ShardWriter, iter_shard, list_shards
from pipeline.simgan.data import crop_shape
from pipeline.simgan.io import load_refiner, refiner_config, save_refiner, build_refiner


def generated_crop(rng: np.random.Generator, domain: str, shape: tuple[int, int]) -> Sample:
    """A smooth blob plus sensor-like noise: PNG costs like a rendered crop's, not like white noise."""
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    cx, cy, r = rng.uniform(0.3 * w, 0.7 * w), rng.uniform(0.3 * h, 0.7 * h), rng.uniform(0.15, 0.3) * h
    blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
    if domain == "eyes":
        image = np.clip(200 - 150 * blob + rng.normal(0, 3, shape), 0, 255).astype(np.uint8)
        crop = {"center": [320.0, 240.0], "box": [140, 84], "out": [w, h], "flip": False, "src_size": [640, 480]}
    else:
        image = np.where(blob > 0.2, 600 - 40 * blob + rng.normal(0, 1, shape), 750).astype(np.uint16)
        crop = {"center_uvd": [320.0, 240.0, 600.0], "cube_mm": 300.0, "size": h, "fx": 588.03, "fy": 587.07,
                "cx": 320.0, "cy": 240.0, "src_size": [640, 480]}
    return Sample("x", image, {"domain": domain, "split": "synthetic", "crop": crop, "labels": {}})


def write_generated(split: Path, domain: str, shape: tuple[int, int], n: int, shard_size: int) -> Path:
    rng = np.random.default_rng(0)
    with ShardWriter(split, shard_size) as w:
        for i in range(n):
            s = generated_crop(rng, domain, shape)
            key = f"synthetic-{i:06d}"
            w.write(Sample(key, s.image, {**s.meta, "id": key, "source": f"bench#{i}"}))
    return split


def forward_images_per_s(refiner: torch.nn.Module, batch: torch.Tensor, precision: str, iters: int) -> float:
    device = pick_device()
    refiner = refiner.to(device, memory_format=memory_format(device)).eval()
    x = batch.to(device).contiguous(memory_format=memory_format(device))
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step():
        with torch.inference_mode(), autocast(device, precision):
            refiner(x)

    for _ in range(2):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    sync()
    return iters * len(x) / (time.perf_counter() - t0)


def bench(domain: str, params_path: str, n: int, shard_size: int, workers: int | None, threads: int | None,
          iters: int, synthetic: str | None, model: str | None) -> dict:
    params = load_params(params_path)
    cfg = params.domain(domain).refine
    cfg = replace(cfg, workers=workers or cfg.workers, threads=threads or cfg.threads)
    params = replace(params, **{domain: replace(params.domain(domain), refine=cfg)})
    # the forward gets the cores the stage's workers get between them
    forward_threads = cfg.workers * (cfg.threads or max(1, (os.cpu_count() or 1) // cfg.workers))
    with tempfile.TemporaryDirectory(prefix="bench-refine-") as tmp:
        tmp = Path(tmp)
        split = Path(synthetic) if synthetic else write_generated(tmp / "synthetic", domain,
                                                                  crop_shape(params, domain), n, shard_size)
        if model is None:
            model = tmp / f"refiner-{domain}.pt"
            torch.manual_seed(0)
            save_refiner(model, build_refiner(refiner_config(params, domain)), refiner_config(params, domain), "bench", 0)
        first = list(itertools.islice(iter_shard(list_shards(split)[0]), cfg.batch_size))
        batch = torch.from_numpy(np.stack([normalize(domain, s.image, s.meta) for s in first]))[:, None]
        torch.set_num_threads(forward_threads)
        forward = forward_images_per_s(load_refiner(model, domain, params)[0], batch, cfg.precision, iters)
        result = refine_split(params, domain, split, tmp / "refined", model)
        n_done = result.counts["written"]
    stage = n_done / result.seconds
    return {"domain": domain, "device": pick_device().type, "cpus": os.cpu_count(), "images": n_done,
            "batch_size": cfg.batch_size, "precision": cfg.precision, "workers": cfg.workers,
            "threads_per_worker": cfg.threads or None, "forward_threads": forward_threads,
            "forward_images_per_s": round(forward, 1), "stage_images_per_s": round(stage, 1),
            "stage_seconds": round(result.seconds, 2), "stage_over_forward": round(stage / forward, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("domain", choices=["eyes", "hands"])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--n", type=int, default=4000, help="generated crops (without --synthetic)")
    ap.add_argument("--shard-size", type=int, default=500)
    ap.add_argument("--workers", type=int, help="override <domain>.refine.workers")
    ap.add_argument("--threads", type=int, help="override <domain>.refine.threads (torch threads per worker)")
    ap.add_argument("--iters", type=int, default=10, help="timed forward batches")
    ap.add_argument("--synthetic", help="an existing synthetic split instead of generated crops")
    ap.add_argument("--model", help="an existing refiner file instead of a random one of params' size")
    args = ap.parse_args()
    print(json.dumps(bench(args.domain, args.params, args.n, args.shard_size, args.workers, args.threads,
                           args.iters, args.synthetic, args.model)))


if __name__ == "__main__":
    main()
