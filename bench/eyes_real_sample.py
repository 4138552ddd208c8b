"""Write real-like eye crops (55x35 PNG, as ingest cuts them) of N simulated people to a folder,
for bench/real_reference.py without a pipeline run.

    python bench/eyes_real_sample.py OUT_DIR [--people 15] [--frames 20] [--seed 7]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from pipeline.crops.eyes import OUT_SIZE
from pipeline.simulate import eyes, eyes_real


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--people", type=int, default=15)
    ap.add_argument("--frames", type=int, default=20, help="frames per person (one session each)")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    k = 0
    for pid in range(a.people):  # the same draws as pipeline.simulate.eyes.real_unit (day 0, left eyes)
        person = eyes_real.sample_person(np.random.default_rng([a.seed, 1, pid]))
        rng = np.random.default_rng([a.seed, 2, pid, 0])
        session = eyes_real.sample_session(rng)
        pitch, yaw = eyes.draw_gaze(rng, a.frames, eyes.REAL_PITCH_DEG), eyes.draw_gaze(rng, a.frames, eyes.REAL_YAW_DEG)
        for im in eyes_real.render(rng, person, session, pitch, yaw):
            cv2.imwrite(str(a.out / f"{k:05d}.png"), cv2.resize(im, OUT_SIZE, interpolation=cv2.INTER_AREA))
            k += 1
    print(f"{k} crops in {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
