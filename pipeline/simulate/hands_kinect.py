"""A structured-light depth camera's artefacts (Kinect v1, which recorded NYU), on a clean depth map.

- projector shadow: the projector sits BASELINE_MM to the side of the camera; a point is unlit
  (no depth) where a nearer surface hides it from the projector. Along a row the projector sees
  pixel u at u + bf / z, so a pixel is shadowed when some pixel left of it lands further right
  (a running maximum, no per-pixel loop); shadows fall right of near objects, bf (1/z1 - 1/z2) wide;
- missing depth at depth edges (mixed pixels), dropout holes (low-frequency blobs), range limits;
- pixel jitter: blocks of the image displaced by a pixel, so edges come out ragged;
- disparity noise and quantization: depth comes from disparity d = 8 bf / z in 1/8 pixels,
  rounded, so the depth step grows with the square of the distance (~1.6 mm at 0.75 m, as in
  NYU's test frame; ~11 mm at 2 m).
Random fields come from fixed noise tables read at a random offset per frame: cheap, and
deterministic for the frame's generator.
"""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.formats import nyu

BASELINE_MM = 75.0
BF = BASELINE_MM * nyu.INTRINSICS["fx"]  # px * mm
SUBPIXEL = 8.0
MIN_MM, MAX_MM = 400.0, 4000.0
H, W = nyu.HEIGHT, nyu.WIDTH
_TABLE = np.random.default_rng(20140101)
UNIFORM = _TABLE.random(4 * H * W, dtype=np.float32)
NORMAL = _TABLE.standard_normal(4 * H * W, dtype=np.float32)
# jitter: each 4x4 block moved by -1, 0 or +1 px (a quarter of blocks move)
JITTER_STEPS = np.array([-1, 0, 0, 0, 0, 0, 0, 1], np.float32)


def field(table: np.ndarray, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    n = shape[0] * shape[1]
    start = int(rng.integers(0, table.size - n))
    return table[start:start + n].reshape(shape)


def shadow(z: np.ndarray) -> np.ndarray:
    """Pixels the projector cannot see (z: float32 mm, 0 = no depth; one column = W / width frame px)."""
    step = W // z.shape[1]
    cols = (np.arange(z.shape[1], dtype=np.float32) * step)[None, :]
    # no depth counts as infinitely far: it lands leftmost and so hides nothing
    proj = cols + np.float32(BF) / (z + (z == 0) * np.float32(1e12))
    return proj < np.maximum.accumulate(proj, axis=1) - np.float32(0.5 * step)


def depth_edges(z: np.ndarray, jump_px: float = 1.5) -> np.ndarray:
    """Pixels whose 3x3 neighbourhood spans a disparity jump of more than `jump_px` pixels (a
    depth edge as the sensor sees it; a far surface seen at a grazing angle is not one), or
    borders missing depth."""
    with np.errstate(divide="ignore"):
        disparity = np.float32(BF) / z  # no depth: inf
    disparity[~np.isfinite(disparity)] = 0
    kernel = np.ones((3, 3), np.uint8)
    return cv2.dilate(disparity, kernel) - cv2.erode(disparity, kernel) > np.float32(jump_px)


def jitter(z: np.ndarray, rng: np.random.Generator, block: int = 4) -> np.ndarray:
    """Each block x block tile of pixels read from a pixel to the side or above/below, or not."""
    h, w = z.shape
    moves = JITTER_STEPS[(field(UNIFORM, rng, (h // block, 2 * w // block)) * len(JITTER_STEPS)).astype(np.int64)]
    du = cv2.resize(moves[:, : w // block], (w, h), interpolation=cv2.INTER_NEAREST)
    dv = cv2.resize(moves[:, w // block:], (w, h), interpolation=cv2.INTER_NEAREST)
    du += np.arange(w, dtype=np.float32)[None, :]
    dv += np.arange(h, dtype=np.float32)[:, None]
    return cv2.remap(z, du, dv, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)


# the sensor's steps in the order kinect runs them; "all_edges" (every depth-edge pixel dropped, a
# deterministic erosion) is not one of them: bench/hand_gap.py's ablations ask for it
STEPS = ("range", "shadow", "edges", "blobs", "noise")
ABLATION_STEPS = ("all_edges",)


def kinect(z: np.ndarray, rng: np.random.Generator, hole_rate: float = 0.03, edge_drop: float = 0.5,
           disparity_sigma: float = 0.25, steps: tuple[str, ...] = STEPS) -> np.ndarray:
    """Clean float32 depth (mm, 0 = nothing) -> uint16 depth as the sensor would report it.

    `steps` (a subset of STEPS + ABLATION_STEPS, run in kinect's order) lets bench/hand_gap.py
    measure what each part of the sensor is worth: range (out-of-range depth missing), shadow
    (projector shadow), edges (edge_drop of the depth-edge pixels missing at random), blobs (blob
    holes), noise (pixel jitter, disparity noise, quantization). A skipped step draws nothing
    from `rng`. Masks multiply (a boolean-indexed store is several times slower on image-sized
    arrays)."""
    if unknown := set(steps) - set(STEPS) - set(ABLATION_STEPS):
        raise ValueError(f"unknown Kinect steps {sorted(unknown)}: expected some of {STEPS + ABLATION_STEPS}")
    shape = z.shape
    z = z * ((z > MIN_MM) & (z < MAX_MM)) if "range" in steps else z.astype(np.float32)  # a copy: z stays
    if "shadow" in steps:
        z *= ~shadow(z)
    if "edges" in steps:
        z *= ~(depth_edges(z) & (field(UNIFORM, rng, shape) < edge_drop))
    if "all_edges" in steps:
        z *= ~depth_edges(z)
    if "blobs" in steps:
        blobs = cv2.resize(field(UNIFORM, rng, (12, 16)), shape[::-1], interpolation=cv2.INTER_CUBIC)
        blobs += np.float32(0.05) * field(UNIFORM, rng, shape)
        z *= blobs <= np.float32(1.0 - hole_rate)
    if "noise" in steps:
        z = jitter(z, rng)
        with np.errstate(divide="ignore"):
            disparity = np.float32(SUBPIXEL * BF) / z  # no depth: inf, and back to 0 below
            disparity += np.float32(disparity_sigma) * field(NORMAL, rng, shape)
            z = np.float32(SUBPIXEL * BF) / np.rint(disparity, out=disparity)
    z += np.float32(0.5)
    return z.astype(np.uint16)
