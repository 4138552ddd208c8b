"""SimGAN throughput: training images/s (R and D steps) and refiner forward images/s, bf16 and fp32.

Each figure is also given as achieved GFLOP/s and as a fraction of the matmul peak of the same
dtype measured in the same run (FLOPs counted by torch.utils.flop_counter on one step, backward
included). Inputs are random tensors of the crop size: this measures compute, not the loader.

    python -m bench.simgan eyes                      # params.yaml's train_refiner settings
    python -m bench.simgan eyes --batch 16 --iters 3 # quick check
    python -m bench.simgan eyes --threads 1          # as train_refiner runs by default (threads: 1)
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import torch
from torch.utils.flop_counter import FlopCounterMode

from pipeline.device import autocast, pick_device
from pipeline.params import load_params
from pipeline.simgan.data import crop_shape
from pipeline.simgan.distributed import World
from pipeline.simgan.run import build_simgan


def timed(fn, iters: int, warmup: int = 2) -> float:
    """Seconds per call of `fn` (after warm-up; CUDA synchronized)."""
    for _ in range(warmup):
        fn()
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    sync()
    return (time.perf_counter() - t0) / iters


def flops_of(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def matmul_peak(device: torch.device, dtype: torch.dtype, n: int, iters: int) -> float:
    """GFLOP/s of an n x n x n matmul in `dtype`: the reference ceiling for the convolutions."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    return 2 * n ** 3 / timed(lambda: a @ b, iters) / 1e9


def bench(domain: str, params_path: str, precision: str, batch: int, iters: int, matmul_n: int) -> dict:
    params = load_params(params_path)
    cfg = replace(params.domain(domain).train_refiner, batch_size=batch, precision=precision)
    section = replace(params.domain(domain), train_refiner=cfg)
    params = replace(params, **{domain: section})
    device = pick_device()
    gan = build_simgan(params, domain, World(device=device))
    shape = crop_shape(params, domain)
    syn = gan.prepare(torch.rand(batch, 1, *shape) * 2 - 1)
    real = gan.prepare(torch.rand(batch, 1, *shape) * 2 - 1)
    for _ in range(4):  # fill the history so D steps refine b/2 fresh images, as in training
        gan.disc_step(syn, real)

    def forward():
        with torch.no_grad(), autocast(device, precision):
            gan.refiner(syn)

    steps = {"refiner_step": lambda: gan.refiner_step(syn), "disc_step": lambda: gan.disc_step(syn, real),
             "refiner_forward": forward}
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    # the peak is taken before and after the steps and the higher kept: on a shared machine the
    # fraction of peak is then a lower bound, never inflated by a slow peak measurement
    peak_before = matmul_peak(device, dtype, matmul_n, iters)
    measured = {name: (flops_of(fn), timed(fn, iters)) for name, fn in steps.items()}
    peak = max(peak_before, matmul_peak(device, dtype, matmul_n, iters))
    out = {"precision": precision, "matmul_peak_gflops": round(peak, 1)}
    for name, (flops, sec) in measured.items():
        gflops = flops / sec / 1e9
        out[name] = {"images_per_s": round(batch / sec, 1), "gflops": round(gflops, 1),
                     "fraction_of_peak": round(gflops / peak, 3), "gflop_per_step": round(flops / 1e9, 3)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("domain", choices=["eyes", "hands"])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--batch", type=int, default=0, help="batch size (default: train_refiner.batch_size)")
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--matmul-n", type=int, default=2048)
    ap.add_argument("--precisions", default="bf16,fp32")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's, one per core)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    batch = args.batch or load_params(args.params).domain(args.domain).train_refiner.batch_size
    info = {"domain": args.domain, "batch": batch, "device": str(pick_device()), "threads": torch.get_num_threads(),
            "torch": torch.__version__}
    results = [bench(args.domain, args.params, p, batch, args.iters, args.matmul_n)
               for p in args.precisions.split(",")]
    print(json.dumps({**info, "results": results}, indent=2))


if __name__ == "__main__":
    main()
