"""The embedded hand data: both domains written as NYU hand pose files.

    out_root/synthetic/synthdepth_1_NNNNNNN.png + joint_data.mat   clean renders (like NYU's synthdepth)
    out_root/real/train/depth_1_NNNNNNN.png + joint_data.mat       Kinect-like frames in a cluttered room
    out_root/real/test/depth_1_NNNNNNN.png + joint_data.mat        the same, other frames (labelled test)

The synthetic side uses NYU's synthdepth prefix, so pointing `hands.simulate.synthetic_dir` at a
real NYU split folder reads its synthdepth renders through the same code. Work is cut into units
of UNIT frames (one real-like room each, like a recording session), each drawing from its own
seeded Generator and writing its own PNGs, so the files are byte-identical for a seed whatever
the number of processes, and a larger run extends a smaller one; joint_data.mat is written by
the parent from the units' joints, in frame order.
"""
from __future__ import annotations

import math
import multiprocessing as mp
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from pipeline.formats import nyu
from pipeline.params import HandSimulate
from pipeline.simulate import hands_model as model, write_file
from pipeline.simulate.hands_kinect import kinect
from pipeline.simulate.hands_render import FAR, draw_capsules, empty_zbuffer, split_capsules, to_depth_mm
from pipeline.simulate.hands_scene import Room, draw_room, sample_room



@dataclass(frozen=True)
class Look:
    """What a split's frames are made of, beyond the hand itself."""
    real_arm: bool  # an elbow and upper arm (real-like), or a long straight forearm (synthetic)
    room: bool      # the person's body, a table, a wall
    sensed: bool    # through the Kinect model on the coarse grid, or a clean render


SYNTHETIC, REAL = Look(False, False, False), Look(True, True, True)
UNIT = 100
# split -> (generator stream, folder under out_root, file prefix, look)
SPLITS = {"synthetic": (0, "synthetic", "synthdepth", SYNTHETIC),
          "real_train": (1, "real/train", "depth", REAL),
          "real_test": (2, "real/test", "depth", REAL)}
FOREARM_MM = {False: 1500.0, True: 270.0}  # real-like: an elbow, then the upper arm to the body
FOREARM_PIECES = 12
REAL_STEP = 2


def hand_capsules(points: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, r) of one posed hand's capsules in camera mm, the long forearm cut into pieces."""
    a, b = points[model.CAPSULES[:, 0]], points[model.CAPSULES[:, 1]]
    r = model.CAPSULE_R * scale
    fa, fb, fr = split_capsules(a[-1:], b[-1:], r[-1:], FOREARM_PIECES)
    return np.concatenate([a[:-1], fa]), np.concatenate([b[:-1], fb]), np.concatenate([r[:-1], fr])


def render_frame(points: np.ndarray, scale: float, rng: np.random.Generator, room: Room | None = None,
                 sensed: bool | None = None) -> np.ndarray:
    """uint16 (480, 640) depth mm of one posed hand (camera-mm points, model.N_POINTS of them) in
    `room` (if any), sensed by the Kinect model or rendered clean (default: sensed with a room).

    Sensed frames come from a 320x240 grid, each value repeated over its 2x2 block: a Kinect v1
    computes depth more coarsely than the 640x480 it reports (its edges come in blocks), and it
    costs a quarter of the work."""
    sensed = room is not None if sensed is None else sensed
    step = room.step if room is not None else REAL_STEP if sensed else 1
    zbuf = empty_zbuffer(step)
    draw_capsules(zbuf, *hand_capsules(points, scale), step)
    if room is not None:
        draw_room(zbuf, room, points[model.ARM_B])
    return sense(zbuf, rng) if sensed else to_depth_mm(zbuf)


def sense(zbuf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A coarse z-buffer (FAR = nothing) -> uint16 (480, 640) depth as the Kinect reports it."""
    zbuf[zbuf >= FAR] = 0
    return cv2.resize(kinect(zbuf, rng), (nyu.WIDTH, nyu.HEIGHT), interpolation=cv2.INTER_NEAREST)


def sample_hands(rng: np.random.Generator, n: int, real: bool, p: HandSimulate) -> tuple[np.ndarray, np.ndarray]:
    """(camera-mm points (n, model.N_POINTS, 3), scales (n,)) of n random hands."""
    pose = model.sample_poses(rng, n)
    place = model.sample_placements(rng, n, p.min_distance_mm, p.max_distance_mm)
    return model.pose_hands(model.hand_points(pose, FOREARM_MM[real]), place), place["scale"]


def write_unit(out_dir: str, split: str, seed: int, n_total: int, p: HandSimulate, k: int,
               look: Look | None = None) -> np.ndarray:
    """Frames k*UNIT+1 .. of a split: PNGs written here, their (n, 36, 3) joints xyz returned.

    A unit always draws UNIT hands (and its room) before rendering in frame order, so frame i is
    the same whatever the number of frames asked for: a larger run extends a smaller one. `look`
    replaces the split's own (bench/hand_gap.py: the synthetic hands with part of the gap added)."""
    stream, _, prefix, split_look = SPLITS[split]
    look = look or split_look
    rng = np.random.default_rng([seed, stream, k])
    points, scales = sample_hands(rng, UNIT, look.real_arm, p)
    step = REAL_STEP if look.sensed else 1
    room = sample_room(rng, step, p.min_distance_mm, p.max_distance_mm) if look.room else None
    n = min(UNIT, n_total - k * UNIT)
    for i in range(n):
        png = nyu.encode_depth(render_frame(points[i], scales[i], rng, room, look.sensed))
        write_file(Path(out_dir) / nyu.frame_name(k * UNIT + i + 1, 1, prefix), png)
    return points[:n, :nyu.N_JOINTS]


def simulate_split(out_dir: Path, split: str, n: int, p: HandSimulate, seed: int, look: Look | None = None) -> int:
    _fresh(out_dir)
    units = [partial(write_unit, str(out_dir), split, seed, n, p, k, look) for k in range(math.ceil(n / UNIT))]
    if p.workers <= 1:
        xyz = [u() for u in units]
    else:
        with mp.get_context("spawn").Pool(p.workers, initializer=cv2.setNumThreads, initargs=(1,)) as pool:
            xyz = pool.map(_call, units)
    xyz = np.concatenate(xyz)
    nyu.write_joint_data(out_dir / "joint_data.mat", nyu.xyz_to_uvd(xyz), xyz)
    return len(xyz)


def simulate_hands(out_root: Path, p: HandSimulate, seed: int) -> dict:
    """Write the three splits under out_root in NYU's layout; returns frame counts."""
    sizes = {"synthetic": p.n_synthetic, "real_train": p.n_real_train, "real_test": p.n_real_test}
    return {split: simulate_split(Path(out_root) / SPLITS[split][1], split, sizes[split], p, seed)
            for split in SPLITS}


def preview(raw_root: Path, out_png: Path, params=None) -> Path:
    """The simulate stage's preview (reports/figures/simulate-hands.png), read back from the files."""
    from pipeline.simulate.hands_preview import write_preview
    return write_preview(Path(raw_root), Path(out_png))


simulate = simulate_hands  # the name stages/simulate.py calls for every domain


def _call(fn):
    return fn()


def _fresh(path: Path) -> None:
    """Start from an empty folder: a smaller rerun must not leave stale frames behind."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
