"""Did refinement keep the labels valid? A per-sample shift measured on (synthetic, refined) pairs.

The refiner may change appearance (noise, texture, contrast) but not geometry, so the labels of
the synthetic sample must still hold for the refined one:
- eyes: the pupil/iris centre must stay put. We take the darkness-weighted centroid inside the
  labelled iris disc (a quarter wider than the iris) where it lies in the labelled eye opening
  (the interior margin, 1 px wider), in both images, and report the distance in crop pixels. It
  ignores brightness/contrast changes and pixel noise (averaged over the disc) and moves when the
  dark blob itself moves or changes shape. The opening bounds it because UnityEyes' iris is 0.63
  of the eye's width: its disc reaches over both lids, and darker lashes or lid margins there
  would read as a moved iris (without the bound the default's refiner reads 1.15 px, with it
  0.59; the old renders' refiner 0.66 and 0.58: BENCHMARKS.md, "Framing from landmarks").
- hands: the depth surface at the labelled joints must stay put. We report the mean absolute
  depth change in mm at the joints that lie on the hand in both crops. A joint whose depth went
  missing is not a moved surface but a sensor hole, which real depth cameras make (our Kinect
  model, applied to the synthetic renders themselves, loses 9.8 % of the joints and moves the
  rest by 1.1 mm: `python -m bench.hand_gap --variant sensor`; the measure before this one
  counted the holes as depth changes and failed that perfect refiner at 15.8 mm). So holes are
  counted apart, as the fraction of label points lost, with a limit of their own.
  Depth at the joint pixel is blind to a surface that slides sideways (a 1-2 px shift of a finger
  keeps much of its depth under the joint), so each joint's local surface is also matched: the
  synthetic patch around the joint (PATCH_HALF) is searched for in the refined crop over
  +-MATCH_RADIUS px, each patch less its median (a depth offset is the depth measure's business),
  and the best offset is the joint's 2D displacement; a sample's move is the length of its joints'
  mean displacement (px). Joints whose patch is flat (nothing to match) are left out; an offset
  counts only when it beats staying put by a margin, so sensor-like noise on a still surface
  reads as 0.
- eyes lose their labels when the dark iris disc vanishes (then it counts as moved by its radius too).
Each sample gets (shift, lost fraction, 2D move); a sample without the labels needed (e.g. no
landmarks) gets NaN and is left out of the summary. The check gates the mean AND the 95th
percentile over samples: a mean alone passes a refiner that moves one sample in ten a lot.
"""
from __future__ import annotations

import cv2
import numpy as np

UNITS = {"eyes": "px", "hands": "mm"}
SHIFT, LOST, MOVE = 0, 1, 2  # the columns of a per-sample check (MOVE: hands' 2D surface displacement, px)
PATCH_HALF = 3      # 7x7 crop px around a joint: a finger's width at 64 px crops
MATCH_RADIUS = 3    # offsets searched, px each way
FLAT_MM = 2.0       # a patch whose depth spread (after its median) is below this has nothing to match
MATCH_MARGIN = 0.2  # an offset must cut the match cost (mean |diff|, mm) by this share of staying put's
BRIGHT_PERCENTILE = 95.0  # the disc's bright end (sclera), robust to a few hot pixels
DISC_MARGIN = 1.25  # the disc reaches a quarter beyond the labelled iris radius


def iris_discs(metas: list[dict], height: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) iris centres (x, y) and (N,) disc radii in crop px; NaN where landmarks are missing."""
    centres = np.full((len(metas), 2), np.nan)
    radii = np.full(len(metas), np.nan)
    marks = [(m.get("labels") or {}).get("landmarks") or {} for m in metas]
    have = [i for i, mk in enumerate(marks) if "iris_center" in mk]
    if not have:
        return centres, radii
    centres[have] = [marks[i]["iris_center"] for i in have]
    iris = [marks[i].get("iris") or [] for i in have]
    if len({len(p) for p in iris}) == 1 and iris[0]:  # the usual case: one array op for the batch
        radii[have] = np.linalg.norm(np.asarray(iris, float) - centres[have][:, None], axis=2).mean(axis=1)
    else:
        radii[have] = [np.linalg.norm(np.asarray(p, float) - c, axis=1).mean() if p else height / 6
                       for p, c in zip(iris, centres[have])]
    return centres, DISC_MARGIN * radii


def opening_masks(metas: list[dict], shape: tuple[int, int]) -> np.ndarray:
    """(N, H, W) bool: inside each sample's labelled eye opening (its interior margin polygon, 1 px
    wider so the lid line itself counts); all True for a sample without margin landmarks."""
    h, w = shape
    out = np.ones((len(metas), h, w), bool)
    grow = np.ones((3, 3), np.uint8)
    for i, m in enumerate(metas):
        margin = ((m.get("labels") or {}).get("landmarks") or {}).get("interior_margin")
        if margin:
            poly = np.zeros((h, w), np.uint8)
            cv2.fillPoly(poly, [np.rint(np.asarray(margin, float) * 16).astype(np.int32)], 1, shift=4)
            out[i] = cv2.dilate(poly, grow).astype(bool)
    return out


def disc_windows(images: np.ndarray, centres: np.ndarray, radii: np.ndarray, regions: np.ndarray | None = None):
    """Square windows around each disc (the disc is all that is measured, so only it is read).

    Returns patches (N, k, k) float32, their crop coordinates xs (N, 1, k) and ys (N, k, 1),
    and the disc mask (N, k, k), False outside the crop and, given `regions` (N, H, W), outside them.
    """
    n, h, w = images.shape
    half = int(np.ceil(radii.max()))
    offsets = np.arange(-half, half + 1)
    xs = np.clip(np.rint(centres[:, 0]), 0, w - 1).astype(int)[:, None] + offsets
    ys = np.clip(np.rint(centres[:, 1]), 0, h - 1).astype(int)[:, None] + offsets
    def window(a: np.ndarray) -> np.ndarray:  # (N, k, k) of a (N, H, W) stack, zero / False outside it
        return np.pad(a, ((0, 0), (half, half), (half, half)))[
            np.arange(n)[:, None, None], ys[:, :, None] + half, xs[:, None, :] + half]

    patches = window(images).astype(np.float32)
    in_crop = ((ys >= 0) & (ys < h))[:, :, None] & ((xs >= 0) & (xs < w))[:, None, :]
    if regions is not None:
        in_crop &= window(regions)
    xs, ys = xs[:, None, :].astype(float), ys[:, :, None].astype(float)
    dist2 = (xs - centres[:, 0, None, None]) ** 2 + (ys - centres[:, 1, None, None]) ** 2
    return patches, xs, ys, in_crop & (dist2 <= (radii ** 2)[:, None, None])


def dark_centroids(images: np.ndarray, centres: np.ndarray, radii: np.ndarray,
                   regions: np.ndarray | None = None) -> np.ndarray:
    """(N, 2) darkness-weighted centroid (x, y) inside each image's disc (and `regions`, (N, H, W)
    bool, when given); NaN where nothing is dark.

    Weight = how much darker a pixel is than the disc's bright end (its BRIGHT_PERCENTILE), so
    the pupil weighs most, the iris ring next and the sclera nothing; an affine change of
    brightness scales all weights alike and leaves the centroid where it was.
    """
    patches, xs, ys, disc = disc_windows(images, centres, radii, regions)
    n = len(patches)
    # each disc's percentile: sort with the outside at -inf, then index past the outside
    ranked = np.sort(np.where(disc, patches, -np.inf).reshape(n, -1), axis=1)
    inside = disc.sum(axis=(1, 2))
    at = ranked.shape[1] - inside + np.floor(BRIGHT_PERCENTILE / 100 * np.maximum(inside - 1, 0)).astype(int)
    bright = ranked[np.arange(n), np.minimum(at, ranked.shape[1] - 1)][:, None, None]
    weight = np.where(disc, np.clip(bright - patches, 0, None), 0.0)
    mass = weight.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = np.stack([(weight * xs).sum(axis=(1, 2)) / mass, (weight * ys).sum(axis=(1, 2)) / mass], 1)
    centroid[mass <= 0] = np.nan
    return centroid


def iris_shift_px(synthetic: np.ndarray, refined: np.ndarray, metas: list[dict]) -> np.ndarray:
    """(N, 2) per sample: how far the iris centroid moved, and 1.0 if the iris was lost (a refined
    disc with nothing dark left, which also counts as moved by the whole disc radius); a synthetic
    disc with nothing dark (or no landmarks) cannot be checked (NaN)."""
    centres, radii = iris_discs(metas, synthetic.shape[1])
    out = np.full((len(metas), 3), np.nan)
    ok = ~np.isnan(radii)
    if ok.any():
        m = int(ok.sum())
        opening = opening_masks([mt for mt, k in zip(metas, ok) if k], synthetic.shape[1:])
        both = dark_centroids(np.concatenate([synthetic[ok], refined[ok]]), np.tile(centres[ok], (2, 1)),
                              np.tile(radii[ok], 2), np.concatenate([opening, opening]))
        moved = np.linalg.norm(both[:m] - both[m:], axis=1)
        lost = np.isnan(both[m:, 0]) & ~np.isnan(both[:m, 0])
        out[ok, SHIFT] = np.where(lost, radii[ok], moved)
        out[ok, LOST] = np.where(np.isnan(moved) & ~lost, np.nan, lost.astype(float))
    out[:, MOVE] = out[:, SHIFT]  # the iris centroid's displacement is itself a 2D move in px
    return out


def joint_pixels(metas: list[dict], n: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, v) integer crop px (N, J) of the labelled joints (ragged lists padded off-crop) and inside (N, J)."""
    joints = [(m.get("labels") or {}).get("joints_uvd") or [] for m in metas]
    uv = np.full((n, max(map(len, joints), default=0), 2), -1.0)
    for i, j in enumerate(joints):
        if j:
            uv[i, :len(j)] = np.asarray(j, float)[:, :2]
    u, v = np.rint(uv[..., 0]).astype(int), np.rint(uv[..., 1]).astype(int)
    return u, v, (u >= 0) & (u < w) & (v >= 0) & (v < h)


def surface_move_px(synthetic: np.ndarray, refined: np.ndarray, u: np.ndarray, v: np.ndarray,
                    lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(N, J, 2) 2D displacement (dy, dx px) of each joint's local surface from synthetic to refined;
    NaN for a flat patch. Depth is clipped to the crop cube [lo, hi] (N, 1) so holes and background
    read alike."""
    n, h, w = synthetic.shape
    r, m = PATCH_HALF, MATCH_RADIUS
    pad = r + m
    k = np.arange(-r, r + 1)
    rows = np.arange(n)[:, None, None, None]

    def windows(images: np.ndarray, half: int) -> np.ndarray:  # (N, J, 2h+1, 2h+1) around each joint
        x = np.clip(images.astype(np.float32), lo[:, :, None], hi[:, :, None])
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad)), mode="edge")
        o = np.arange(-half, half + 1)
        return x[rows, (v.clip(0, h - 1) + pad)[:, :, None, None] + o[:, None],
                 (u.clip(0, w - 1) + pad)[:, :, None, None] + o[None, :]]

    patch = windows(synthetic, r)
    patch = patch - np.median(patch, axis=(2, 3), keepdims=True)
    search = windows(refined, r + m)
    offsets = [(dy, dx) for dy in range(-m, m + 1) for dx in range(-m, m + 1)]
    cost = np.empty(patch.shape[:2] + (len(offsets),), np.float32)
    for i, (dy, dx) in enumerate(offsets):
        cand = search[:, :, m + dy:m + dy + 2 * r + 1, m + dx:m + dx + 2 * r + 1]
        cand = cand - np.median(cand, axis=(2, 3), keepdims=True)
        cost[..., i] = np.abs(cand - patch).mean(axis=(2, 3))
    vectors = np.array(offsets, float)
    length = np.hypot(vectors[:, 0], vectors[:, 1])
    # ties (a symmetric patch) go to the shortest offset; staying put wins unless clearly beaten
    best = np.argmin(cost + 1e-4 * length, axis=2)
    still = cost[..., offsets.index((0, 0))]
    gain = still - np.take_along_axis(cost, best[..., None], axis=2)[..., 0]
    move = np.where((gain > MATCH_MARGIN * still)[..., None], vectors[best], 0.0)
    flat = np.abs(patch).mean(axis=(2, 3)) < FLAT_MM / 2
    return np.where(flat[..., None], np.nan, move)


def joint_depth_change_mm(synthetic: np.ndarray, refined: np.ndarray, metas: list[dict]) -> np.ndarray:
    """(N, 3) per sample: the mean |refined - synthetic| depth (mm) at the labelled joints lying on
    the hand in both crops, the fraction of the joints on the synthetic hand that are not on
    the refined one (missing depth, or pushed out of the cube), and how far the hand slid: the length
    of the mean 2D displacement (px) of the local surface around the joints kept (surface_move_px;
    NaN when every patch is flat). The mean vector, not the mean length: a slide moves every joint
    the same way, while sensor-like fraying of edges pulls single matches every which way.

    On the hand = inside the crop and within the crop cube (the background is the far plane,
    missing depth is 0). No joint on the synthetic hand: NaN, NaN, NaN; all of them lost: NaN, 1, NaN.
    """
    n, h, w = synthetic.shape
    u, v, inside = joint_pixels(metas, n, h, w)
    rows = np.arange(n)[:, None]
    d_syn = synthetic[rows, v.clip(0, h - 1), u.clip(0, w - 1)].astype(np.float64)
    d_ref = refined[rows, v.clip(0, h - 1), u.clip(0, w - 1)].astype(np.float64)
    centre = np.array([m.get("crop", {}).get("center_uvd", [0, 0, np.nan])[2] for m in metas])[:, None]
    half = np.array([m.get("crop", {}).get("cube_mm", np.nan) / 2 for m in metas])[:, None]
    on_syn = inside & (d_syn > 0) & (np.abs(d_syn - centre) < half)
    both = on_syn & (d_ref > 0) & (np.abs(d_ref - centre) < half)
    n_syn, n_both = on_syn.sum(axis=1), both.sum(axis=1)
    out = np.full((n, 3), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, SHIFT] = np.where(n_both > 0, (np.abs(d_ref - d_syn) * both).sum(axis=1) / n_both, np.nan)
        out[:, LOST] = np.where(n_syn > 0, 1.0 - n_both / n_syn, np.nan)
    if n and u.shape[1]:
        lo, hi = np.nan_to_num(centre - half), np.nan_to_num(centre + half, nan=65535.0)
        move = np.where(both[..., None], surface_move_px(synthetic, refined, u, v, lo, hi), np.nan)
        counted = ~np.isnan(move[..., 0])
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_vector = np.nansum(move, axis=1) / counted.sum(axis=1)[:, None]
        out[:, MOVE] = np.where(counted.any(axis=1), np.hypot(mean_vector[:, 0], mean_vector[:, 1]), np.nan)
    return out


def label_shift(domain: str, synthetic: np.ndarray, refined: np.ndarray, metas: list[dict]) -> np.ndarray:
    """(N, 3) per sample (shift, lost fraction, 2D move px) of (N, H, W) synthetic/refined image stacks
    (shift in eyes: px, hands: mm)."""
    if domain == "eyes":
        return iris_shift_px(synthetic, refined, metas)
    return joint_depth_change_mm(synthetic, refined, metas)


def no_shifts() -> np.ndarray:
    return np.zeros((0, 3))


def _stats(values: np.ndarray) -> dict:
    valid = values[~np.isnan(values)]
    if not len(valid):
        return {"mean": None, "p95": None, "max": None}
    return {"mean": round(float(valid.mean()), 4), "p95": round(float(np.percentile(valid, 95)), 4),
            "max": round(float(valid.max()), 4)}


def _within(stats: dict, limit: float | None, key: str) -> bool:
    return limit is None or (stats[key] is not None and stats[key] <= limit)


def summarize(domain: str, shifts: np.ndarray, max_shift: float, max_lost: float, max_shift_p95: float | None = None,
              max_move: float | None = None, max_move_p95: float | None = None) -> dict:
    """The stage metric: mean / p95 / max shift over samples that had labels, the mean fraction of
    label points lost, the hands' 2D surface move (mean / p95 / max px), and whether the means and
    95th percentiles are within their limits (a None limit is not checked)."""
    shifts = shifts if shifts.shape[1] > MOVE else np.c_[shifts, np.full(len(shifts), np.nan)]
    shift, move = _stats(shifts[:, SHIFT]), _stats(shifts[:, MOVE])
    lost = shifts[~np.isnan(shifts[:, LOST]), LOST]
    lost_mean = float(lost.mean()) if len(lost) else None
    check_move = domain == "hands"  # eyes: the shift is the iris centroid's 2D move already
    passed = (shift["mean"] is not None and shift["mean"] <= max_shift and lost_mean <= max_lost
              and _within(shift, max_shift_p95, "p95")
              and (not check_move or (_within(move, max_move, "mean") and _within(move, max_move_p95, "p95"))))
    out = {
        "unit": UNITS[domain],
        "measure": "iris darkness-centroid displacement" if domain == "eyes" else "depth change at joints kept",
        "checked": int(len(lost)),
        **shift,
        "threshold": max_shift,
        "threshold_p95": max_shift_p95,
        "lost": round(lost_mean, 4) if lost_mean is not None else None,
        "lost_measure": "fraction of iris discs gone dark-less" if domain == "eyes" else "fraction of joints that lost depth",
        "max_lost": max_lost,
        "passed": bool(passed),
    }
    if check_move:
        out["move"] = {"measure": "2D displacement of the joints' local surface (patch match)", "unit": "px",
                       **move, "threshold": max_move, "threshold_p95": max_move_p95}
    return out
