"""The hand crop (the one place for it): a cube around the hand, resampled to S x S depth.

A cube of `cube_mm` centred on `center_uvd` (u px, v px, d mm) projects to a box of
cube * fx / d by cube * fy / d frame pixels around (u, v); that box is resampled to S x S
(nearest neighbour: averaging would invent depths between hand and background). Depth outside
[d - cube/2, d + cube/2] or missing (0) becomes the far plane, ceil(d + cube/2), so
`normalize` maps the hand into [-1, 1] and the background to exactly +1 (DeepPrior's crop).
Crops are stored as uint16 mm; the crop dict in meta.json holds everything the inverse needs.

Pixel coordinates put pixel centres at integers in both the frame and the crop (OpenCV's and
NYU's convention). Joint depth stays in mm: crop uvd = (crop px, crop px, frame mm).
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import cv2
import numpy as np

from pipeline.formats import nyu


def crop_dict(center_uvd, cube_mm: float, size: int, intrinsics: Mapping = nyu.INTRINSICS,
              src_size=(nyu.WIDTH, nyu.HEIGHT)) -> dict:
    """The meta.json crop record; the centre is rounded first (u, v to 1/100 px, d to whole mm)
    so the stored numbers define the transform exactly."""
    u, v, d = (float(c) for c in center_uvd)
    return {"center_uvd": [round(u, 2), round(v, 2), float(round(d))], "cube_mm": float(cube_mm),
            "size": int(size), **{k: float(intrinsics[k]) for k in ("fx", "fy", "cx", "cy")},
            "src_size": [int(src_size[0]), int(src_size[1])]}


def _scale_origin(crop: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """(scale sx, sy in crop px per frame px; frame px (centre convention) half a box left of / above the centre)."""
    u, v, d = crop["center_uvd"]
    half = crop["cube_mm"] / 2.0
    half_wh = np.array([half * crop["fx"] / d, half * crop["fy"] / d])
    return crop["size"] / (2.0 * half_wh), np.array([u, v]) - half_wh


def crop_uvd(uvd, crop: Mapping) -> np.ndarray:
    """(..., 3) frame u, v px and d mm -> crop px and d mm."""
    uvd = np.array(uvd, np.float64)
    scale, origin = _scale_origin(crop)
    # the box spans centre +- half the cube around the centre pixel's middle; crop pixel P covers
    # [P, P + 1] of the box's edge coordinates, hence the half-pixel shift
    uvd[..., :2] = (uvd[..., :2] - origin) * scale - 0.5
    return uvd


def uncrop_uvd(uvd, crop: Mapping) -> np.ndarray:
    """Inverse of crop_uvd: crop px and d mm -> frame u, v px and d mm."""
    uvd = np.array(uvd, np.float64)
    scale, origin = _scale_origin(crop)
    uvd[..., :2] = (uvd[..., :2] + 0.5) / scale + origin
    return uvd


crop_joints, uncrop_joints = crop_uvd, uncrop_uvd


def far_value(crop: Mapping) -> int:
    return math.ceil(crop["center_uvd"][2] + crop["cube_mm"] / 2.0)


def crop_depth(depth: np.ndarray, crop: Mapping) -> np.ndarray:
    """uint16 (H, W) frame depth mm -> uint16 (S, S) crop, background at the far plane."""
    scale, origin = _scale_origin(crop)
    shift = -origin * scale - 0.5  # crop_uvd's affine map, as OpenCV's 2x3 matrix
    m = np.array([[scale[0], 0.0, shift[0]], [0.0, scale[1], shift[1]]])
    s = crop["size"]
    out = cv2.warpAffine(depth, m, (s, s), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    d, half = crop["center_uvd"][2], crop["cube_mm"] / 2.0
    out[(out < d - half) | (out > d + half)] = far_value(crop)  # 0 (no depth) is below d - half
    return out


def normalize(image: np.ndarray, meta: Mapping) -> np.ndarray:
    """uint16 crop mm -> float32 in [-1, 1]: (d - centre d) / (cube / 2), background +1."""
    crop = meta["crop"]
    x = (image.astype(np.float32) - np.float32(crop["center_uvd"][2])) / np.float32(crop["cube_mm"] / 2.0)
    return np.clip(x, -1.0, 1.0)


def denormalize(x: np.ndarray, meta: Mapping) -> np.ndarray:
    """Inverse of normalize: [-1, 1] -> uint16 mm; +1 (and above) is the far plane."""
    crop = meta["crop"]
    x = np.clip(np.asarray(x, np.float32), -1.0, 1.0)
    d = np.rint(crop["center_uvd"][2] + x.astype(np.float64) * crop["cube_mm"] / 2.0)
    d[x >= 1.0] = far_value(crop)
    return d.astype(np.uint16)


# ---------------------------------------------------------------- where the hand is
def center_from_joints(joints_uvd, intrinsics: Mapping = nyu.INTRINSICS) -> np.ndarray:
    """Labelled splits: the centroid of the (evaluation) joints in 3D, as u, v, d."""
    xyz = nyu.uvd_to_xyz(joints_uvd, intrinsics)
    return nyu.xyz_to_uvd(xyz.mean(axis=0), intrinsics)


def center_from_depth(depth: np.ndarray, cube_mm: float, min_depth: float, max_depth: float,
                      min_pixels: int, intrinsics: Mapping = nyu.INTRINSICS, step: int = 2):
    """Unlabelled frames: the centre (u, v, d) of the hand in the nearest depth blob, or None when
    no blob of `min_pixels` lies in [min_depth, max_depth]. Never looks at labels.

    The nearest blob is the connected region within cube/2 behind the nearest surface (on a 2x
    subsampled map). Its plain centre of mass sits on the wrist when the forearm is as near as
    the hand, so we find where the arm enters the blob (its pixels on the frame border, else its
    deepest tenth, where the arm leaves the band), start from the blob's 3D point farthest from
    there (the fingers' end) and move to the centre of mass of the points within a sphere of
    cube/3 around it, a few times. On simulated real-like frames this centre lies a median 30 mm
    (90th percentile 49 mm) from the labelled joints' centroid (a plain centre of mass: 42 / 232
    mm), and 20 mm on the real NYU test frame in tests/data/nyu.

    `step`: the map's subsampling (2 on a 640x480 frame); `min_pixels` counts pixels of `depth`.
    A crop seen as a camera (`crop_camera`) works as a frame: its edge is then the frame's edge.
    """
    sub = depth[::step, ::step].astype(np.float32)
    valid = (sub > min_depth) & (sub < max_depth)
    need = max(1, min_pixels // (step * step))
    if np.count_nonzero(valid) < need:
        return None
    vals = sub[valid]
    k = min(10, vals.size - 1)
    near = np.partition(vals, k)[k]  # the 10th nearest point: past a few flying pixels
    band = (valid & (sub < near + cube_mm / 2.0)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8)
    big = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= need]
    if not big:
        return None
    nearest = min(big, key=lambda i: sub[labels == i].min())
    rows, cols = np.nonzero(labels == nearest)
    uvd = np.stack([float(step) * cols, float(step) * rows, sub[rows, cols]], axis=1)
    xyz = nyu.uvd_to_xyz(uvd, intrinsics)
    h, w = sub.shape
    entry = (rows == 0) | (rows == h - 1) | (cols == 0) | (cols == w - 1)
    if not entry.any():  # the arm left the depth band instead: its deepest points
        entry = uvd[:, 2] >= np.percentile(uvd[:, 2], 90)
    entry = xyz[entry].mean(axis=0)
    center = xyz[np.argmax(((xyz - entry) ** 2).sum(axis=1))]
    radius2 = (cube_mm / 3.0) ** 2  # ~ half a hand: the sphere climbs from the fingers to the palm
    for _ in range(4):
        inside = ((xyz - center) ** 2).sum(axis=1) <= radius2
        center = xyz[inside].mean(axis=0)
    return nyu.xyz_to_uvd(center, intrinsics)


# ---------------------------------------------------------------- context crops, cut again later
def crop_camera(crop: Mapping) -> dict:
    """A crop seen as a camera of its own: the intrinsics under which the crop's pixels are the
    projections of the same 3D points (the crop is a scale and shift of the frame, crop_uvd)."""
    scale, origin = _scale_origin(crop)
    return {"fx": crop["fx"] * scale[0], "fy": crop["fy"] * scale[1],
            "cx": (crop["cx"] - origin[0]) * scale[0] - 0.5, "cy": (crop["cy"] - origin[1]) * scale[1] - 0.5}


def wide_crop_dict(center_uvd, cube_mm: float, size: int, margin: float) -> dict:
    """The context crop around a hand: `margin` x the cube, at the final crop's pixel pitch."""
    return crop_dict(center_uvd, cube_mm * margin, int(round(size * margin)))


def recrop(wide: np.ndarray, wide_crop: Mapping, cube_mm: float, size: int, min_depth: float,
           max_depth: float, min_pixels: int) -> tuple[np.ndarray, dict] | None:
    """(final crop image, its crop dict in frame coordinates) cut from a context crop as a real
    frame is cut: centred by `center_from_depth` on the context crop's own depth (a refined one:
    holes and frayed edges move the centre as the sensor's do), or None when no hand blob is left.

    `min_pixels` counts frame pixels, as for frames. The returned dict is an ordinary crop of the
    frame (labels move by crop_uvd); its pixels come from the context crop through the composed
    affine maps, so joint labels and depth pixels stay in register."""
    depth = np.where(wide == far_value(wide_crop), 0, wide).astype(np.uint16)  # the far plane: no depth
    cam = crop_camera(wide_crop)
    scale, _ = _scale_origin(wide_crop)
    frame_px_per_px = 1.0 / float(scale[0] * scale[1])
    centre = center_from_depth(depth, cube_mm, min_depth, max_depth, max(1, int(min_pixels / frame_px_per_px)),
                               intrinsics=cam, step=1)
    if centre is None:
        return None
    final = crop_dict(uncrop_uvd(centre, wide_crop), cube_mm, size)
    return cut_context(wide, wide_crop, final), final


def cut_context(wide: np.ndarray, wide_crop: Mapping, final: Mapping) -> np.ndarray:
    """The pixels of the frame crop `final`, taken from the context crop `wide` (its far plane
    and anything outside it: no depth), as crop_depth would take them from the frame."""
    depth = np.where(wide == far_value(wide_crop), 0, wide).astype(np.uint16)
    in_wide = {**final, "center_uvd": crop_uvd(final["center_uvd"], wide_crop).tolist(), **crop_camera(wide_crop),
               "src_size": [int(wide.shape[1]), int(wide.shape[0])]}
    return crop_depth(depth, in_wide)  # its far plane is the final crop's (same centre depth)
