"""Hand simulator throughput: frames/s per domain, and where one frame's time goes.

In one process (no pool start-up in the figure): sampling + ray-casting (+ the room, once per
unit, and sensor effects for real-like frames), PNG encoding, and the file write, as CPU ms per
frame; then the
frames/s that gives one process and two (the simulator's units are independent, so two worker
processes scale until the cores run out). With --workers N the real `simulate_split` is run
too, pool start-up and joint_data.mat included (wall and CPU time).

    python -m bench.simulate_hands                    # 300 frames per domain
    python -m bench.simulate_hands --frames 100 --workers 2
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from bench.ingest import timed
from pipeline.formats import nyu
from pipeline.params import load_params
from pipeline.simulate import hands
from pipeline.simulate.hands_scene import sample_room


def per_frame_ms(n: int, real: bool, p, out: Path) -> dict[str, float]:
    """CPU ms per frame of each step, one process."""
    cpu = time.process_time
    t0 = cpu()
    depths = []
    for i in range(n):  # as write_unit: per unit, UNIT hands and a room, then frames in order
        if i % hands.UNIT == 0:
            rng = np.random.default_rng([0, i])
            points, scales = hands.sample_hands(rng, hands.UNIT, real, p)
            room = sample_room(rng, hands.REAL_STEP, p.min_distance_mm, p.max_distance_mm) if real else None
        depths.append(hands.render_frame(points[i % hands.UNIT], scales[i % hands.UNIT], rng, room))
    t1 = cpu()
    pngs = [nyu.encode_depth(d) for d in depths]
    t2 = cpu()
    for i, png in enumerate(pngs):
        (out / nyu.frame_name(i + 1)).write_bytes(png)
    t3 = cpu()
    return {"render": (t1 - t0) / n * 1e3, "encode": (t2 - t1) / n * 1e3, "write": (t3 - t2) / n * 1e3,
            "kB": sum(map(len, pngs)) / n / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--frames", type=int, default=300, help="frames per domain")
    ap.add_argument("--workers", type=int, default=0, help="also run simulate_split with this many processes")
    ap.add_argument("--tmp", default=None, help="scratch folder (default: the system temp dir)")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    p = load_params(args.params).hands.simulate
    work = Path(tempfile.mkdtemp(prefix="bench-sim-hands-", dir=args.tmp))
    try:
        print(f"{'domain':<10} {'render':>7} {'encode':>7} {'write':>6} {'total':>6} ms/frame (CPU)"
              f" {'kB':>5} {'fps 1 proc':>10} {'fps 2 proc':>10}")
        for name, real in (("synthetic", False), ("real-like", True)):
            ms = per_frame_ms(args.frames, real, p, work)
            total = ms["render"] + ms["encode"] + ms["write"]
            print(f"{name:<10} {ms['render']:>7.2f} {ms['encode']:>7.2f} {ms['write']:>6.2f} {total:>6.2f}"
                  f"{'':>15} {ms['kB']:>5.0f} {1e3 / total:>10.0f} {2e3 / total:>10.0f}")
        if args.workers:
            p = type(p)(**{**p.__dict__, "workers": args.workers})
            for split in ("synthetic", "real_train"):
                n, wall, cpu = timed(lambda: hands.simulate_split(work / split, split, args.frames, p, 0))
                print(f"simulate_split {split} x{n}, {args.workers} workers: {n / wall:.0f} frames/s wall "
                      f"({wall:.1f} s), {cpu / n * 1e3:.1f} CPU ms/frame incl. pool start-up")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
