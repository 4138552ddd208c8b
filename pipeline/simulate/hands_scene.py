"""Background clutter of the real-like domain: the person's body and arm, a table, a wall.

Like a recording session of NYU's, a run of frames (a unit) shares one room: the body, head,
table and wall are drawn once into a z-buffer that every frame of the unit starts from; only
the upper arm, from the frame's elbow to the shoulder, is drawn per frame. The body stands at
least 200 mm behind the farthest a palm may be, as in NYU's recordings the hand is the nearest
thing to the camera. Shapes are chosen so their depth is cheap on the whole frame: a
vertical elliptic cylinder (torso) and a wall turned about the vertical axis have one depth
per image column, a level table one per image row.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.simulate.hands_render import FAR, NEAR_MM, draw_capsules, empty_zbuffer, rays


@dataclass(frozen=True)
class Room:
    depth: np.ndarray     # float32 z-buffer of the static clutter on the `step` grid (FAR = nothing)
    shoulder: np.ndarray  # camera mm, where the upper arm ends
    arm_radius: float
    step: int


def sample_room(rng: np.random.Generator, step: int, near_mm: float, far_mm: float) -> Room:
    """A room for hands whose palm centres lie between near_mm and far_mm from the camera, within
    about 200 mm of its axis (hands.model.sample_placements)."""
    side = 1.0 if rng.random() < 0.7 else -1.0  # which side of the hands the body is
    body_z = far_mm + rng.uniform(200, 450) + 120
    body_x = side * rng.uniform(150, 350)
    top = rng.uniform(-50, 250)
    zbuf = empty_zbuffer(step)
    draw_torso(zbuf, body_x, body_z, rng.uniform(150, 200), rng.uniform(100, 130), top - 700, top, step)
    if rng.random() < 0.8:
        head, r = np.array([body_x, top + 130, body_z - 20]), rng.uniform(85, 105)
        draw_capsules(zbuf, head[None], head[None], np.array([r]), step)
    if rng.random() < 0.6:
        draw_table(zbuf, -rng.uniform(350, 600), rng.uniform(near_mm, far_mm + 300), step)
    if rng.random() < 0.85:
        draw_wall(zbuf, rng.uniform(-0.35, 0.35), rng.uniform(1600, 3500), step)
    shoulder = np.array([body_x - side * 160, top - 40, body_z - 40])
    return Room(zbuf, shoulder, rng.uniform(35, 45), step)


def draw_room(zbuf: np.ndarray, room: Room, elbow: np.ndarray) -> None:
    """Min the room and this frame's upper arm (elbow -> shoulder) into zbuf."""
    np.minimum(zbuf, room.depth, out=zbuf)
    draw_capsules(zbuf, elbow[None], room.shoulder[None], np.array([room.arm_radius]), room.step)


def draw_torso(zbuf: np.ndarray, x: float, z: float, ax: float, az: float, y0: float, y1: float,
               step: int = 1) -> None:
    """A vertical elliptic cylinder (semi-axes ax, az) between heights y0 and y1."""
    rx, ry = rays(step)
    a = rx * rx / ax**2 + 1.0 / az**2
    b = rx * x / ax**2 + z / az**2
    c = x * x / ax**2 + z * z / az**2 - 1.0
    h = b * b - a * c
    with np.errstate(invalid="ignore"):
        t = ((b - np.sqrt(h)) / a).astype(np.float32)
    # rows where the ray's height t * ry lies within [y0, y1], i.e. ry within [y0 / t, y1 / t]
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = (y0 / t).astype(np.float32), (y1 / t).astype(np.float32)
    inside = (ry[:, None] >= lo) & (ry[:, None] <= hi)  # False where h < 0 (t NaN)
    np.minimum(zbuf, np.where(inside, t, FAR), out=zbuf)


def draw_table(zbuf: np.ndarray, height: float, near_z: float, step: int = 1) -> None:
    """A level table top at camera height `height` (below the hands), from depth near_z on."""
    ry = rays(step)[1]
    rows = np.nonzero(ry < 0)[0]
    z = (height / ry[rows]).astype(np.float32)
    z = np.where(z >= near_z, z, FAR)[:, None]
    region = zbuf[rows[0]:]
    np.minimum(region, z, out=region)


def draw_wall(zbuf: np.ndarray, angle: float, dist: float, step: int = 1) -> None:
    """A wall `dist` mm away along its normal, turned `angle` rad about the vertical axis."""
    with np.errstate(divide="ignore"):
        z = np.float32(dist) / (rays(step)[0] * np.float32(np.sin(angle)) + np.float32(np.cos(angle)))
    np.minimum(zbuf, np.where(z > NEAR_MM, np.minimum(z, FAR), FAR)[None, :], out=zbuf)  # parallel: inf
