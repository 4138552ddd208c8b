"""Z-buffered depth of capsules, ray-cast analytically on NYU's pixel grid.

Each pixel (u, v) looks along r = ((u - cx) / fx, (cy - v) / fy, 1) from the camera at the
origin (camera y up, z forward), so a hit at ray parameter t has depth z = t. A capsule (a
segment swept by a sphere; a sphere is a capsule of zero length) is ray-cast only inside its
projected bounding box. `step` 2 casts one ray per 2x2 block of frame pixels (through the
block's centre): the real-like sensor works on that coarser grid.

Numpy's per-call overhead, not arithmetic, dominates boxes of a few hundred pixels, so capsules
of similar box size are cast together on a padded (G, h, w) stack of up to STACK_PX pixels, then
min-ed into the z-buffer one box at a time (only each capsule's own box is written).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from pipeline.formats import nyu

K = nyu.INTRINSICS
NEAR_MM = 50.0
FAR = np.float32(65535.0)  # "nothing hit": becomes 0 (NYU's no depth) in to_depth_mm
STACK_PX = 12000


@lru_cache(maxsize=None)
def rays(step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(rx (W/step,), ry (H/step,)) float32 ray slopes through the centres of step x step blocks."""
    u = np.arange(nyu.WIDTH // step) * step + (step - 1) / 2.0
    v = np.arange(nyu.HEIGHT // step) * step + (step - 1) / 2.0
    return ((u - K["cx"]) / K["fx"]).astype(np.float32), ((K["cy"] - v) / K["fy"]).astype(np.float32)


def empty_zbuffer(step: int = 1) -> np.ndarray:
    return np.full((nyu.HEIGHT // step, nyu.WIDTH // step), FAR, np.float32)


def capsule_boxes(a: np.ndarray, b: np.ndarray, r: np.ndarray, step: int = 1) -> np.ndarray:
    """(P, 4) int boxes [u0, u1, v0, v1) on the step grid covering capsules a-b of radius r (mm)."""
    ends = np.stack([a, b], axis=1)  # (P, 2, 3)
    z = np.maximum(ends[..., 2], NEAR_MM + r[:, None])
    u = K["cx"] + K["fx"] * ends[..., 0] / z
    v = K["cy"] - K["fy"] * ends[..., 1] / z
    reach = K["fx"] * r[:, None] / np.maximum(z - r[:, None], NEAR_MM) * 1.05 + 2.0
    box = np.stack([(u - reach).min(1), (u + reach).max(1), (v - reach).min(1), (v + reach).max(1)], 1) / step
    box[(ends[..., 2] - r[:, None] < NEAR_MM).any(axis=1)] = [0, np.inf, 0, np.inf]  # reaches the camera
    box = np.stack([np.floor(box[:, 0]), np.ceil(box[:, 1]) + 1, np.floor(box[:, 2]), np.ceil(box[:, 3]) + 1], 1)
    box[:, :2] = box[:, :2].clip(0, nyu.WIDTH // step)
    box[:, 2:] = box[:, 2:].clip(0, nyu.HEIGHT // step)
    return box.astype(np.int64)


def capsule_depth(rx: np.ndarray, ry: np.ndarray, pa: np.ndarray, pb: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Depth (mm) where rays (rx (G, 1, w), ry (G, h, 1), 1) first hit capsules pa[g]-pb[g] of
    radius r[g] (FAR on a miss).

    A capsule is the union of a finite cylinder and two spheres, so its first hit is the nearest
    of theirs. With n the unit axis and q the part of pa across it, a ray meets the infinite
    cylinder where t^2 |rd x n|^2 - 2 t rd.q + |q|^2 - r^2 = 0 (|rd x n|^2 has no cancellation,
    so float32 is exact enough); that hit counts where its axial coordinate lies within the
    segment. Misses are NaN, dropped by fmin; no np.where (branchy, several times a multiply).
    """
    f = lambda x: np.asarray(x, np.float32)[:, None, None]  # noqa: E731  per-capsule scalars -> (G, 1, 1)
    ab = pb - pa
    length = np.linalg.norm(ab, axis=1)
    n = np.where(length[:, None] > 1e-6, ab / np.maximum(length, 1e-6)[:, None], [0.0, 0.0, 1.0])
    pa_n = (pa * n).sum(1)
    q = pa - pa_n[:, None] * n
    nx, ny, nz = f(n[:, 0]), f(n[:, 1]), f(n[:, 2])
    c2 = rx * ny - ry * nx
    a = c2 * c2
    a += (ry * nz - ny) ** 2 + (nx - rx * nz) ** 2
    b = rx * f(q[:, 0]) + (ry * f(q[:, 1]) + f(q[:, 2]))
    rdrd = rx * rx + (ry * ry + np.float32(1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        h = b * b
        h -= a * f((q * q).sum(1) - r * r)
        t = b - np.sqrt(h)
        t /= a
        y = t * (rx * nx + (ry * ny + nz))
        y -= f(pa_n)  # axial coordinate from pa
        np.fmax(t, 0, out=t)  # a = 0 (ray along the axis) gave +-inf: 0 or inf now
        t /= (y > 0) & (y < f(length))  # off the segment: t / 0 = inf or NaN, dropped below
        for p in (pa, pb):  # the end spheres: t^2 |rd|^2 - 2 t rd.p + |p|^2 - r^2 = 0
            rd_p = rx * f(p[:, 0]) + (ry * f(p[:, 1]) + f(p[:, 2]))
            hc = rd_p * rd_p
            hc -= rdrd * f((p * p).sum(1) - r * r)
            rd_p -= np.sqrt(hc)
            rd_p /= rdrd
            np.fmin(t, rd_p, out=t)
    return np.fmin(t, FAR, out=t)


def group_boxes(w: np.ndarray, h: np.ndarray) -> list[np.ndarray]:
    """Indices of the non-empty boxes, smallest first, in groups whose padded stack stays within
    STACK_PX pixels (a big box goes alone)."""
    live = np.nonzero((w > 0) & (h > 0))[0]
    live = live[np.argsort(w[live] * h[live], kind="stable")]
    groups, current, gw, gh = [], [], 0, 0
    for i in live:
        nw, nh = max(gw, w[i]), max(gh, h[i])
        if current and (len(current) + 1) * nw * nh > STACK_PX:
            groups.append(np.array(current))
            current, nw, nh = [], w[i], h[i]
        current.append(i)
        gw, gh = nw, nh
    return groups + ([np.array(current)] if current else [])


def draw_capsules(zbuf: np.ndarray, a: np.ndarray, b: np.ndarray, r: np.ndarray, step: int = 1,
                  ids: np.ndarray | None = None) -> None:
    """Min the capsules a[i]-b[i] (mm) of radius r[i] into zbuf (and their index i into ids)."""
    rx_all, ry_all = rays(step)
    boxes = capsule_boxes(a, b, r, step)
    w, h = boxes[:, 1] - boxes[:, 0], boxes[:, 3] - boxes[:, 2]
    for group in group_boxes(w, h):
        gw, gh = w[group].max(), h[group].max()
        cols = np.minimum(boxes[group, 0, None] + np.arange(gw), len(rx_all) - 1)
        rows = np.minimum(boxes[group, 2, None] + np.arange(gh), len(ry_all) - 1)
        z = capsule_depth(rx_all[cols][:, None, :], ry_all[rows][:, :, None], a[group], b[group], r[group])
        for k, i in enumerate(group):
            u0, u1, v0, v1 = boxes[i]
            zk, region = z[k, :v1 - v0, :u1 - u0], zbuf[v0:v1, u0:u1]
            if ids is not None:
                ids[v0:v1, u0:u1][zk < region] = i
            np.minimum(region, zk, out=region)


def split_capsules(a: np.ndarray, b: np.ndarray, r: np.ndarray, pieces: int):
    """Each capsule as `pieces` shorter ones (the same solid): a long diagonal capsule then
    covers far fewer bounding-box pixels."""
    f = np.linspace(0.0, 1.0, pieces + 1)[None, :, None]
    ends = a[:, None] + f * (b - a)[:, None]
    return ends[:, :-1].reshape(-1, 3), ends[:, 1:].reshape(-1, 3), np.repeat(r, pieces)


def to_depth_mm(zbuf: np.ndarray) -> np.ndarray:
    """float32 z-buffer (FAR where nothing was hit) -> uint16 mm with 0 as NYU's 'no depth'."""
    d = (zbuf + np.float32(0.5)).astype(np.uint16)  # round; FAR + 0.5 truncates back to 65535
    d[d == 65535] = 0
    return d
