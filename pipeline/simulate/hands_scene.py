"""Background clutter of the real-like domain: the person's body and upper arm, a table, a wall.

Everything stays behind the hand (the body at least 200 mm behind the palm), as in NYU's
recordings, where the hand is the nearest thing to the camera. Shapes are chosen so that their
depth is cheap on the full frame: a vertical elliptic cylinder (torso) and a wall turned about
the vertical axis have one depth per image column, a level table one per image row.
"""
from __future__ import annotations

import numpy as np

from pipeline.simulate.hands_render import FAR, NEAR_MM, draw_capsules, rays


def sample_scene(rng: np.random.Generator, palm: np.ndarray, elbow: np.ndarray) -> dict:
    """Clutter for one frame around a hand whose palm centre is `palm` (camera mm)."""
    side = 1.0 if rng.random() < 0.7 else -1.0  # which side of the hand the body is
    body_z = palm[2] + rng.uniform(200, 450) + 120
    body_x = palm[0] + side * rng.uniform(150, 350)
    top = palm[1] + rng.uniform(-50, 250)
    shoulder = np.array([body_x - side * 160, top - 40, body_z - 40])
    return {
        "torso": (body_x, body_z, rng.uniform(150, 200), rng.uniform(100, 130), top - 700, top),
        "head": (np.array([body_x, top + 130, body_z - 20]), rng.uniform(85, 105)) if rng.random() < 0.8 else None,
        "upper_arm": (elbow, shoulder, rng.uniform(35, 45)),
        "table": (palm[1] - rng.uniform(200, 450), palm[2] + rng.uniform(-100, 300)) if rng.random() < 0.6 else None,
        "wall": (rng.uniform(-0.35, 0.35), rng.uniform(1600, 3500)) if rng.random() < 0.85 else None,
    }


def draw_scene(zbuf: np.ndarray, scene: dict, step: int = 1) -> None:
    """Min the clutter into zbuf (float32 mm, FAR = nothing) on the `step` ray grid."""
    draw_torso(zbuf, *scene["torso"], step=step)
    a, b, r = scene["upper_arm"]
    if scene["head"] is not None:
        centre, r_head = scene["head"]
        a, b, r = np.stack([a, centre]), np.stack([b, centre]), np.array([r, r_head])
    else:
        a, b, r = a[None], b[None], np.array([r])
    draw_capsules(zbuf, a, b, r, step)
    if scene["table"] is not None:
        draw_table(zbuf, *scene["table"], step=step)
    if scene["wall"] is not None:
        angle, dist = scene["wall"]
        with np.errstate(divide="ignore"):
            z = np.float32(dist) / (rays(step)[0] * np.float32(np.sin(angle)) + np.float32(np.cos(angle)))
        np.minimum(zbuf, np.where(z > NEAR_MM, z, FAR)[None, :], out=zbuf)


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
    """A level table top at camera height `height` (below the hand), from depth near_z on."""
    ry = rays(step)[1]
    rows = np.nonzero(ry < 0)[0]
    z = (height / ry[rows]).astype(np.float32)
    z = np.where(z >= near_z, z, FAR)[:, None]
    region = zbuf[rows[0]:]
    np.minimum(region, z, out=region)
