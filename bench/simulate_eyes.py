"""Eye simulator throughput, synthetic renders (640x480 UnityEyes jpg + json): renders/s and where
one render's time goes.

In one process: CPU ms per render of sampling + the JSON annotations, rendering the cell grid,
composing the 640x480 frame (upscale + pores), the JPEG encode, json.dumps and the two file
writes. Then, with 2 worker processes (the stage's pool, units of eyes.RENDER_BATCH renders):
renders/s of rendering alone (everything but the encode and the writes) and of the stage's own
`simulate_synthetic` (render + JPEG + JSON written to --tmp), wall time including pool start-up.

    python -m bench.simulate_eyes                     # 1,000 renders in one process, 4,000 on 2 workers
    python -m bench.simulate_eyes --renders 500 --pool-renders 2000 --tmp /dev/shm
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from bench.ingest import timed
from pipeline.params import load_params
from pipeline.simulate import eyes, eyes_annotations, eyes_synthetic as syn, write_file


def per_render_ms(n: int, quality: int, out: Path) -> dict[str, float]:
    """CPU ms per render of each step, one process, units of RENDER_BATCH as the stage draws them."""
    cpu = time.process_time
    steps = dict.fromkeys(("sample+json", "render", "compose", "jpeg", "dumps", "write"), 0.0)
    size = 0
    for k in range(math.ceil(n / eyes.RENDER_BATCH)):
        m = min(eyes.RENDER_BATCH, n - k * eyes.RENDER_BATCH)
        t0 = cpu()
        b = syn.sample_batch(np.random.default_rng([0, 0, k]), m)
        anns = eyes_annotations.annotations(b, syn.CANVAS_H)
        t1 = cpu()
        frames, skin = syn.render_frames(b)
        t2 = cpu()
        # compose and encode in turn, as write_renders does: the image lives in the scratch buffer
        scratch, jpgs, encode = syn.new_scratch(), [], 0.0
        for i in range(m):
            image = syn.compose(b, frames, skin, i, scratch)
            t = cpu()
            jpgs.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1])
            encode += cpu() - t
        t4 = cpu()
        t3 = t4 - encode
        texts = [json.dumps(a).encode() for a in anns]
        t5 = cpu()
        for i, (jpg, text) in enumerate(zip(jpgs, texts)):
            write_file(out / f"{i + 1}.jpg", jpg)
            write_file(out / f"{i + 1}.json", text)
        t6 = cpu()
        for key, (a, z) in zip(steps, ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5), (t5, t6))):
            steps[key] += (z - a) * 1e3 / n
        size += sum(len(j) for j in jpgs)
    return {**steps, "kB": size / n / 1024}


def render_unit(k: int) -> int:
    """One unit rendered to 640x480 frames in memory (no encode, no write)."""
    m = eyes.RENDER_BATCH
    b = syn.sample_batch(np.random.default_rng([0, 0, k]), m)
    eyes_annotations.annotations(b, syn.CANVAS_H)
    frames, skin = syn.render_frames(b)
    scratch = syn.new_scratch()
    for i in range(m):
        syn.compose(b, frames, skin, i, scratch)
    return m


def render_only_rate(n: int, workers: int) -> tuple[int, float, float]:
    units = math.ceil(n / eyes.RENDER_BATCH)

    def run() -> int:
        with mp.get_context("spawn").Pool(workers, initializer=cv2.setNumThreads, initargs=(1,)) as pool:
            return sum(pool.imap_unordered(render_unit, range(units)))

    return timed(run)


def rates(n: int, wall: float, cpu: float, workers: int) -> str:
    """Wall rate, and the CPU seconds behind it (workers' start-up included): on a shared machine
    the wall rate measures the other jobs too, CPU time the cost itself."""
    return (f"{n / wall:.0f} renders/s ({n} in {wall:.1f} s, pool start-up included; {cpu:.1f} CPU-s, "
            f"{n / cpu:.0f} renders per CPU-s, so at most {workers * n / cpu:.0f}/s on {workers} free cores)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--renders", type=int, default=1000, help="renders timed step by step in one process")
    ap.add_argument("--pool-renders", type=int, default=4000, help="renders per 2-worker run")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tmp", default=None, help="scratch folder (default: the system temp dir)")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    p = load_params(args.params).eyes.simulate
    work = Path(tempfile.mkdtemp(prefix="bench-sim-eyes-", dir=args.tmp))
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs; JPEG quality {p.jpeg_quality}; "
          f"writing to {work.parent}")
    try:
        ms = per_render_ms(args.renders, p.jpeg_quality, work)
        total = sum(v for k, v in ms.items() if k != "kB")
        print("CPU ms per render, one process: " + ", ".join(f"{k} {v:.2f}" for k, v in ms.items() if k != "kB")
              + f"; total {total:.2f} ({1e3 / total:.0f} renders/s per core), jpeg {ms['kB']:.0f} kB")
        print(f"render alone, {args.workers} workers: "
              + rates(*render_only_rate(args.pool_renders, args.workers), args.workers))
        shutil.rmtree(work)
        n, wall, cpu = timed(lambda: eyes.simulate_synthetic(
            work, replace(p, n_synthetic=args.pool_renders, workers=args.workers), 0))
        print(f"render + JPEG + JSON written (simulate_synthetic), {args.workers} workers: "
              + rates(n, wall, cpu, args.workers))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
