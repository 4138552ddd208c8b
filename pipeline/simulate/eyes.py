"""The embedded eye data: writes both domains in the real datasets' formats.

    out_root/synthetic/{1.jpg, 1.json, ...}             UnityEyes renders (clean appearance model)
    out_root/real/Data/Normalized/pXX/dayYY.mat         MPIIGaze normalized days (camera-like model)

Work is cut into units (a batch of renders, or one participant-day) that each draw from their own
seeded Generator and write their own files, so the output is byte-identical for a seed whatever the
number of processes or their scheduling.
"""
from __future__ import annotations

import math
import multiprocessing as mp
import shutil
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from pipeline.formats import pitchyaw_to_vector
from pipeline.params import EyeSimulate
from pipeline.simulate import eyes_real, eyes_synthetic

RENDER_BATCH = 250
FRAMES_PER_DAY = 150
REAL_PITCH_DEG = (-4.0, 8.0, 20.0)   # mean, sd, clip: people look a little down at a laptop screen
REAL_YAW_DEG = (0.0, 12.0, 30.0)


def participant_ids(n: int) -> list[str]:
    return [f"p{i:02d}" for i in range(n)]


def synthetic_unit(out_dir: str, seed: int, n_total: int, quality: int, k: int) -> int:
    first = k * RENDER_BATCH
    rng = np.random.default_rng([seed, 0, k])
    return eyes_synthetic.write_renders(Path(out_dir), rng, first + 1, min(RENDER_BATCH, n_total - first), quality)


def draw_gaze(rng: np.random.Generator, n: int, mean_sd_clip) -> np.ndarray:
    mean, sd, clip = mean_sd_clip
    return np.radians(np.clip(rng.normal(mean, sd, n), -clip, clip))


def day_sizes(n_frames: int, frames_per_day: int) -> list[int]:
    """A participant's `n_frames` spread evenly over as few days as hold at most `frames_per_day` each."""
    return [len(a) for a in np.array_split(np.arange(n_frames), math.ceil(n_frames / frames_per_day))]


def participant_day(seed: int, pid: int, day: int, n_frames: int):
    """(rng, person, session, pitch, yaw) of one real-like participant-day: the person's looks are
    seeded by `pid` alone, the day's session and gaze by (pid, day); `rng` goes on to the day's renders."""
    person = eyes_real.sample_person(np.random.default_rng([seed, 1, pid]))
    rng = np.random.default_rng([seed, 2, pid, day])
    session = eyes_real.sample_session(rng)
    pitch, yaw = draw_gaze(rng, n_frames, REAL_PITCH_DEG), draw_gaze(rng, n_frames, REAL_YAW_DEG)
    return rng, person, session, pitch, yaw


def real_unit(out_dir: str, seed: int, n_frames: int, unit: tuple[int, int]) -> int:
    """Participant `pid`, day `day`: both eyes of each frame, right eyes stored mirrored as in MPIIGaze."""
    # imported here, not at the top: every spawned worker imports this module to unpickle its unit,
    # and mpiigaze's scipy.io costs a synthetic-render worker ~0.5 s of start-up it never uses
    from pipeline.formats import mpiigaze
    pid, day = unit
    rng, person, session, pitch, yaw = participant_day(seed, pid, day, n_frames)
    pose = rng.normal(0, [0.12, 0.15, 0.05], (n_frames, 3))  # Rodrigues head rotations
    gaze = pitchyaw_to_vector(pitch, yaw)
    left = eyes_real.render(rng, person, session, pitch, yaw)
    # a right eye, mirrored, looks like a left eye with the yaw negated: render that, mirror it back
    right = eyes_real.render(rng, person, session, pitch, -yaw)[:, :, ::-1]
    names = [f"day{day + 1:02d}/{i + 1:04d}.jpg" for i in range(n_frames)]
    path = Path(out_dir) / "Data" / "Normalized" / f"p{pid:02d}" / f"day{day + 1:02d}.mat"
    mpiigaze.write_mat(path, {"image": left, "gaze": gaze, "pose": pose},
                       {"image": np.ascontiguousarray(right), "gaze": gaze, "pose": pose}, names)
    return 2 * n_frames


def real_units(p: EyeSimulate) -> list[tuple[tuple[int, int], int]]:
    sizes = day_sizes(p.n_per_participant, FRAMES_PER_DAY)
    return [((pid, d), n) for pid in range(p.n_participants) for d, n in enumerate(sizes)]


def _run(fn_units: list, workers: int) -> int:
    if workers <= 1:
        return sum(fn() for fn in fn_units)
    with mp.get_context("spawn").Pool(workers, initializer=cv2.setNumThreads, initargs=(1,)) as pool:
        return sum(pool.imap_unordered(_call, fn_units))


def _call(fn) -> int:
    return fn()


def simulate_synthetic(out_dir: Path, p: EyeSimulate, seed: int) -> int:
    _fresh(out_dir)
    units = [partial(synthetic_unit, str(out_dir), seed, p.n_synthetic, p.jpeg_quality, k)
             for k in range(math.ceil(p.n_synthetic / RENDER_BATCH))]
    return _run(units, p.workers)


def simulate_real(out_dir: Path, p: EyeSimulate, seed: int) -> int:
    _fresh(out_dir)
    units = [partial(real_unit, str(out_dir), seed, n, unit) for unit, n in real_units(p)]
    return _run(units, p.workers)


def simulate_eyes(out_root: Path, p: EyeSimulate, seed: int) -> dict:
    """Write both domains under out_root; returns image counts."""
    out_root = Path(out_root)
    n_syn = simulate_synthetic(out_root / "synthetic", p, seed)
    n_real = simulate_real(out_root / "real", p, seed)
    return {"synthetic": n_syn, "real": n_real, "participants": participant_ids(p.n_participants)}


def preview(raw_root: Path, out_png: Path, params=None) -> Path:
    """The simulate stage's preview grid (reports/figures/simulate-eyes.png)."""
    from pipeline.simulate.eyes_preview import write_preview
    return write_preview(raw_root, out_png)


simulate = simulate_eyes  # the name stages/simulate.py calls for every domain


def _fresh(path: Path) -> None:
    """Start from an empty folder: a smaller rerun must not leave stale files behind."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
