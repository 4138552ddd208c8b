"""Write real-like eye crops (55x35 PNG, as ingest cuts them) of N simulated people to a folder,
for bench/real_reference.py without a pipeline run.

    python bench/eyes_real_sample.py OUT_DIR [--people 15] [--frames 20] [--frames-per-day 1] [--seed 7]

By default each frame of a person comes from its own day (session: light, exposure, defocus,
noise, JPEG), as a handful of patches drawn from MPIIGaze's months of recordings per participant
would. With all of a person's frames from one day, a classifier meets near-copies of its training
crops at test time and the C2ST reads ~0.05 higher (BENCHMARKS.md, "How the bench draws people").
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2

from pipeline.crops.eyes import OUT_SIZE
from pipeline.simulate import eyes, eyes_real


def sample_crops(people: int, frames: int, frames_per_day: int, seed: int):
    """Yield (55x35 uint8 crop) for `people` people x `frames` frames, `frames_per_day` from each
    day. The draws are pipeline.simulate.eyes.real_unit's (its participant_day, same person and day seeds)."""
    for pid in range(people):
        for day, n in enumerate(eyes.day_sizes(frames, frames_per_day)):
            rng, person, session, pitch, yaw = eyes.participant_day(seed, pid, day, n)
            for im in eyes_real.render(rng, person, session, pitch, yaw):
                yield cv2.resize(im, OUT_SIZE, interpolation=cv2.INTER_AREA)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--people", type=int, default=15)
    ap.add_argument("--frames", type=int, default=20, help="frames per person")
    ap.add_argument("--frames-per-day", type=int, default=1,
                    help="frames drawn from each day (session); >= --frames puts a person's frames in one day")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    if min(a.people, a.frames, a.frames_per_day) < 1:
        ap.error("--people, --frames and --frames-per-day must be >= 1")
    a.out.mkdir(parents=True, exist_ok=True)
    for k, crop in enumerate(sample_crops(a.people, a.frames, a.frames_per_day, a.seed)):
        cv2.imwrite(str(a.out / f"{k:05d}.png"), crop)
    print(f"{a.people * a.frames} crops in {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
