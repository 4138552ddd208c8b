"""Z-buffered depth of capsules and planes, ray-cast analytically on NYU's pixel grid.

Each pixel (u, v) looks along r = ((u - cx) / fx, (cy - v) / fy, 1) from the camera at the
origin (camera y up, z forward), so a hit at ray parameter t has depth z = t. A capsule (a
segment swept by a sphere; a sphere is a capsule of zero length) is ray-cast only inside its
projected bounding box: numpy over that box, min into the z-buffer, no per-pixel Python.
The body/cap intersection follows Inigo Quilez's capsule formula, written for an unnormalized
ray direction.
"""
from __future__ import annotations

import numpy as np

from pipeline.formats import nyu

K = nyu.INTRINSICS
RAY_X = ((np.arange(nyu.WIDTH) - K["cx"]) / K["fx"]).astype(np.float32)
RAY_Y = ((K["cy"] - np.arange(nyu.HEIGHT)) / K["fy"]).astype(np.float32)
NEAR_MM = 50.0


FAR = np.float32(65535.0)  # "nothing hit": saturates to 0 in to_depth_mm


def empty_zbuffer() -> np.ndarray:
    return np.full((nyu.HEIGHT, nyu.WIDTH), FAR, np.float32)


def capsule_boxes(a: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    """(P, 4) int pixel boxes [u0, u1, v0, v1) covering the capsules a-b of radius r (mm)."""
    ends = np.stack([a, b], axis=1)  # (P, 2, 3)
    z = np.maximum(ends[..., 2], NEAR_MM + r[:, None])
    u = K["cx"] + K["fx"] * ends[..., 0] / z
    v = K["cy"] - K["fy"] * ends[..., 1] / z
    reach = K["fx"] * r[:, None] / np.maximum(z - r[:, None], NEAR_MM) * 1.05 + 2.0
    near = (ends[..., 2] - r[:, None] < NEAR_MM).any(axis=1)  # reaches past the camera: whole frame
    box = np.stack([(u - reach).min(1), (u + reach).max(1) + 1, (v - reach).min(1), (v + reach).max(1) + 1], 1)
    box[near] = [0, nyu.WIDTH, 0, nyu.HEIGHT]
    box = np.floor(box).astype(np.int64)
    box[:, :2] = box[:, :2].clip(0, nyu.WIDTH)
    box[:, 2:] = box[:, 2:].clip(0, nyu.HEIGHT)
    return box


def capsule_depth(rx: np.ndarray, ry: np.ndarray, pa: np.ndarray, pb: np.ndarray, r: float) -> np.ndarray:
    """Depth (mm) where rays (rx (1, w), ry (h, 1), 1) first hit capsule pa-pb of radius r, FAR on a miss.

    With n the unit axis and q the part of pa across the axis, the ray meets the infinite cylinder
    where t^2 |rd x n|^2 - 2 t rd.q + |q|^2 - r^2 = 0; |rd x n|^2 has no cancellation, so float32
    is exact enough. The hit is on the body when its axial coordinate lies within the segment,
    else on the sphere capping that end.
    """
    f32 = np.float32
    length = float(np.linalg.norm(pb - pa))
    n = (pb - pa) / length if length > 1e-6 else np.array([0.0, 0.0, 1.0])
    q = pa - (pa @ n) * n
    c0, c1 = ry * f32(n[2]) - f32(n[1]), f32(n[0]) - rx * f32(n[2])  # (h, 1) and (1, w)
    c2 = rx * f32(n[1]) - ry * f32(n[0])
    a = c2 * c2 + (c0 * c0 + c1 * c1)
    b = rx * f32(q[0]) + (ry * f32(q[1]) + f32(q[2]))
    with np.errstate(invalid="ignore", divide="ignore"):
        h = b * b - a * f32(q @ q - r * r)
        t = (b - np.sqrt(h)) / a
        y = t * (rx * f32(n[0]) + (ry * f32(n[1]) + f32(n[2]))) - f32(pa @ n)  # axial, from pa
        body = (y > 0) & (y < length)
        first_cap = y <= 0
        rdrd = rx * rx + (ry * ry + f32(1.0))
        rd_p = np.where(first_cap, rx * f32(pa[0]) + (ry * f32(pa[1]) + f32(pa[2])),
                        rx * f32(pb[0]) + (ry * f32(pb[1]) + f32(pb[2])))
        pp = np.where(first_cap, f32(pa @ pa - r * r), f32(pb @ pb - r * r))
        hc = rd_p * rd_p - rdrd * pp
        tc = (rd_p - np.sqrt(hc)) / rdrd
        out = np.where(body, t, np.where(hc >= 0, tc, FAR))  # h < 0 (a miss) leaves y NaN: not body
    out[~(out > NEAR_MM)] = FAR
    return out


def draw_capsules(zbuf: np.ndarray, a: np.ndarray, b: np.ndarray, r: np.ndarray,
                  ids: np.ndarray | None = None, first_id: int = 0) -> None:
    """Min the capsules a[i]-b[i] (mm) of radius r[i] into zbuf (and their index into ids)."""
    for i, (u0, u1, v0, v1) in enumerate(capsule_boxes(a, b, r)):
        if u0 >= u1 or v0 >= v1:
            continue
        z = capsule_depth(RAY_X[None, u0:u1], RAY_Y[v0:v1, None], a[i], b[i], float(r[i]))
        region = zbuf[v0:v1, u0:u1]
        if ids is not None:
            ids[v0:v1, u0:u1][z < region] = first_id + i
        np.minimum(region, z, out=region)


def split_capsules(a: np.ndarray, b: np.ndarray, r: np.ndarray, pieces: int):
    """Each capsule as `pieces` shorter ones (the same solid): long diagonal capsules then cover
    far fewer bounding-box pixels."""
    f = np.linspace(0.0, 1.0, pieces + 1)[None, :, None]
    ends = a[:, None] + f * (b - a)[:, None]
    return ends[:, :-1].reshape(-1, 3), ends[:, 1:].reshape(-1, 3), np.repeat(r, pieces)


def draw_plane(zbuf: np.ndarray, normal, offset: float, z_range=(0.0, np.inf), rows=slice(None)) -> None:
    """Min the plane {X: normal . X = offset} into zbuf where its depth lies in z_range."""
    n = np.asarray(normal, np.float64)
    rx, ry = RAY_X[None, :], RAY_Y[rows, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = offset / (n[0] * rx + n[1] * ry + n[2])
    z = np.where((z > max(z_range[0], NEAR_MM)) & (z < z_range[1]), z, FAR).astype(np.float32)
    region = zbuf[rows]
    np.minimum(region, z, out=region)


def to_depth_mm(zbuf: np.ndarray) -> np.ndarray:
    """float32 z-buffer (FAR where nothing was hit) -> uint16 mm with 0 as NYU's 'no depth'."""
    d = (zbuf + np.float32(0.5)).astype(np.uint16)  # round; FAR + 0.5 truncates back to 65535
    d[d == 65535] = 0
    return d
