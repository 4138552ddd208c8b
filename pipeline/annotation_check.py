"""Did refinement keep the labels valid? A per-sample shift measured on (synthetic, refined) pairs.

The refiner may change appearance (noise, texture, contrast) but not geometry, so the labels of
the synthetic sample must still hold for the refined one:
- eyes: the pupil/iris centre must stay put. We take the darkness-weighted centroid inside the
  labelled iris disc (a quarter wider than the iris), in both images, and report the distance
  in crop pixels. It ignores brightness/contrast changes and pixel noise (averaged over the
  disc) and moves when the dark blob itself moves or changes shape.
- hands: the depth surface at the labelled joints must stay put. We report the mean absolute
  depth change in mm at the joints that land on the hand (foreground) in the synthetic crop.
A sample without the labels needed (e.g. no landmarks) gets NaN and is left out of the summary.
"""
from __future__ import annotations

import numpy as np

UNITS = {"eyes": "px", "hands": "mm"}
BRIGHT_PERCENTILE = 95.0  # the disc's bright end (sclera), robust to a few hot pixels
DISC_MARGIN = 1.25  # the disc reaches a quarter beyond the labelled iris radius


def iris_discs(metas: list[dict], height: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) iris centres (x, y) and (N,) disc radii in crop px; NaN where landmarks are missing."""
    centres = np.full((len(metas), 2), np.nan)
    radii = np.full(len(metas), np.nan)
    for i, meta in enumerate(metas):
        marks = meta.get("labels", {}).get("landmarks") or {}
        if "iris_center" not in marks:
            continue
        centres[i] = marks["iris_center"]
        iris = np.asarray(marks.get("iris") or [], dtype=float).reshape(-1, 2)
        r = np.linalg.norm(iris - centres[i], axis=1).mean() if len(iris) else height / 6
        radii[i] = DISC_MARGIN * r
    return centres, radii


def dark_centroids(images: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """(N, 2) darkness-weighted centroid (x, y) inside each image's disc.

    Weight = how much darker a pixel is than the disc's bright end (its BRIGHT_PERCENTILE), so
    the pupil weighs most, the iris ring next and the sclera nothing; an affine change of
    brightness scales all weights alike and leaves the centroid where it was.
    """
    n, h, w = images.shape
    ys, xs = np.mgrid[0:h, 0:w]
    dist2 = (xs[None] - centres[:, 0, None, None]) ** 2 + (ys[None] - centres[:, 1, None, None]) ** 2
    disc = dist2 <= (radii ** 2)[:, None, None]
    disc[~disc.any(axis=(1, 2))] = True  # a disc off the crop falls back to the whole crop
    values = np.where(disc, images.astype(np.float64), np.nan)
    bright = np.nanpercentile(values, BRIGHT_PERCENTILE, axis=(1, 2), keepdims=True)
    weight = np.where(disc, np.clip(bright - values, 0, None), 0.0)
    mass = np.maximum(weight.sum(axis=(1, 2)), 1e-9)
    return np.stack([(weight * xs).sum(axis=(1, 2)) / mass, (weight * ys).sum(axis=(1, 2)) / mass], axis=1)


def iris_shift_px(synthetic: np.ndarray, refined: np.ndarray, metas: list[dict]) -> np.ndarray:
    centres, radii = iris_discs(metas, synthetic.shape[1])
    shift = np.full(len(metas), np.nan)
    ok = ~np.isnan(radii)
    if ok.any():
        a = dark_centroids(synthetic[ok], centres[ok], radii[ok])
        b = dark_centroids(refined[ok], centres[ok], radii[ok])
        shift[ok] = np.linalg.norm(a - b, axis=1)
    return shift


def joint_depth_change_mm(synthetic: np.ndarray, refined: np.ndarray, metas: list[dict]) -> np.ndarray:
    """Mean |refined - synthetic| depth (mm) at the labelled joints lying on the synthetic hand."""
    n, h, w = synthetic.shape
    shift = np.full(n, np.nan)
    for i, meta in enumerate(metas):  # one vectorized gather per sample (14 joints)
        joints = meta.get("labels", {}).get("joints_uvd")
        if not joints:
            continue
        uv = np.rint(np.asarray(joints, dtype=float)[:, :2]).astype(int)
        inside = (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
        u, v = uv[inside, 0], uv[inside, 1]
        d_syn = synthetic[i, v, u].astype(np.float64)
        d_ref = refined[i, v, u].astype(np.float64)
        crop = meta.get("crop", {})
        centre_d, half = crop["center_uvd"][2], crop["cube_mm"] / 2
        on_hand = (d_syn > 0) & (np.abs(d_syn - centre_d) < half)
        if on_hand.any():
            shift[i] = np.abs(d_ref - d_syn)[on_hand].mean()
    return shift


def label_shift(domain: str, synthetic: np.ndarray, refined: np.ndarray, metas: list[dict]) -> np.ndarray:
    """Per-sample label shift (eyes: px, hands: mm) of (N, H, W) synthetic/refined image stacks."""
    if domain == "eyes":
        return iris_shift_px(synthetic, refined, metas)
    return joint_depth_change_mm(synthetic, refined, metas)


def summarize(domain: str, shifts: np.ndarray, max_shift: float) -> dict:
    """The stage metric: mean / p95 / max over samples that had labels, and whether it passed."""
    valid = shifts[~np.isnan(shifts)]
    mean = float(valid.mean()) if len(valid) else None
    return {
        "unit": UNITS[domain],
        "measure": "iris darkness-centroid displacement" if domain == "eyes" else "depth change at joints",
        "checked": int(len(valid)),
        "mean": round(mean, 4) if mean is not None else None,
        "p95": round(float(np.percentile(valid, 95)), 4) if len(valid) else None,
        "max": round(float(valid.max()), 4) if len(valid) else None,
        "threshold": max_shift,
        "passed": mean is not None and mean <= max_shift,
    }
