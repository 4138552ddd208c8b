"""Evaluation metrics, pure numpy: gaze angular error and hand joint errors, with their curves.

Gaze: (pitch, yaw) -> unit vector by the readers' one convention (pipeline.formats) for both
prediction and truth; error = angle between the vectors.
Hands: 3D error in mm per joint (after undoing the crop), and the 2D error in pixels of the
640x480 frame for the paper's "% of joints within 5 px" (SimGAN Table 4).
Curves are per-sample (eyes) or per-joint (hands) cumulative percentages; hands also get NYU's
standard curve (Taylor et al. 2012, Oberweger et al. 2015): the % of frames whose worst joint is
within d mm, which a method cannot win by getting the easy joints right.
"""
from __future__ import annotations

import numpy as np

from pipeline.formats import pitchyaw_to_vector

GAZE_THRESHOLDS_DEG = np.arange(0, 21, 1.0)   # % within d, d = 0..20 deg
HAND_THRESHOLDS_MM = np.arange(0, 81, 2.0)    # % of joints within d, d = 0..80 mm
GAZE_WITHIN_DEG = 7.0                          # SimGAN Table 2
HAND_WITHIN_PX = 5.0                           # SimGAN Table 4
WORST_WITHIN_MM = 40.0                         # a point of NYU's worst-joint curve for the table


def angular_error_deg(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Angle (deg) between the gaze vectors of (N, 2) pitch/yaw predictions and labels."""
    a = pitchyaw_to_vector(pred[:, 0], pred[:, 1])
    b = pitchyaw_to_vector(true[:, 0], true[:, 1])
    cos = np.clip(np.sum(a * b, axis=1), -1.0, 1.0)
    return np.degrees(np.arccos(cos))


def percent_within(errors: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """% of `errors` (any shape) <= each threshold."""
    e = np.sort(errors.ravel())
    return 100.0 * np.searchsorted(e, thresholds, side="right") / max(len(e), 1)


# headline metric -> its per-sample column (the metric is that column's mean): what the bootstrap resamples
PER_SAMPLE = {"mean_angular_error_deg": "error_deg", "pct_within_7deg": "within_7deg",
              "mean_joint_error_mm": "error_mm", "mean_joint_error_px": "error_px",
              "pct_joints_within_5px": "within_5px", "pct_frames_worst_within_40mm": "worst_within_40mm"}


def seed_column(col: str, seed: int) -> str:
    """The per-sample column `col` of estimator seed `seed`: seed 0 keeps the bare name, so a one-seed
    samples file reads the same as before seeds existed."""
    return col if seed == 0 else f"{col}@seed{seed}"


def gaze_per_sample(pred: np.ndarray, true: np.ndarray) -> dict[str, np.ndarray]:
    err = angular_error_deg(pred, true)
    return {"error_deg": err, "within_7deg": 100.0 * (err <= GAZE_WITHIN_DEG)}


def hand_per_sample(pred_xyz: np.ndarray, true_xyz: np.ndarray, pred_uv: np.ndarray,
                    true_uv: np.ndarray) -> dict[str, np.ndarray]:
    """Per frame: mean joint error (mm, px) and % of its joints within 5 px (frames resample whole)."""
    err_mm = np.linalg.norm(pred_xyz - true_xyz, axis=-1)
    err_px = np.linalg.norm(pred_uv - true_uv, axis=-1)
    return {"error_mm": err_mm.mean(1), "error_px": err_px.mean(1),
            "within_5px": 100.0 * (err_px <= HAND_WITHIN_PX).mean(1),
            "worst_within_40mm": 100.0 * (err_mm.max(1) <= WORST_WITHIN_MM)}


def gaze_metrics(pred: np.ndarray, true: np.ndarray) -> tuple[dict, list[dict]]:
    """(metrics, curve rows) for (N, 2) pitch/yaw predictions against labels."""
    err = angular_error_deg(pred, true)
    curve = percent_within(err, GAZE_THRESHOLDS_DEG)
    metrics = {"n": int(len(err)), "mean_angular_error_deg": float(err.mean()),
               "median_angular_error_deg": float(np.median(err)),
               "pct_within_7deg": float(percent_within(err, np.array([GAZE_WITHIN_DEG]))[0])}
    rows = [{"threshold_deg": float(t), "pct_within": float(c)} for t, c in zip(GAZE_THRESHOLDS_DEG, curve)]
    return metrics, rows


def hand_metrics(pred_xyz: np.ndarray, true_xyz: np.ndarray, pred_uv: np.ndarray,
                 true_uv: np.ndarray) -> tuple[dict, list[dict]]:
    """(metrics, curve rows) from (N, J, 3) xyz mm and (N, J, 2) frame-pixel joints."""
    err_mm = np.linalg.norm(pred_xyz - true_xyz, axis=-1)
    err_px = np.linalg.norm(pred_uv - true_uv, axis=-1)
    curve = percent_within(err_mm, HAND_THRESHOLDS_MM)
    frames = percent_within(err_mm.max(axis=1), HAND_THRESHOLDS_MM)
    metrics = {"n": int(err_mm.shape[0]), "joints": int(err_mm.shape[1]),
               "mean_joint_error_mm": float(err_mm.mean()),
               "median_joint_error_mm": float(np.median(err_mm)),
               "mean_joint_error_px": float(err_px.mean()),
               "pct_joints_within_5px": float(percent_within(err_px, np.array([HAND_WITHIN_PX]))[0]),
               "pct_frames_worst_within_40mm": float(percent_within(err_mm.max(axis=1), np.array([WORST_WITHIN_MM]))[0])}
    rows = [{"threshold_mm": float(t), "pct_within": float(c), "pct_frames_worst_within": float(f)}
            for t, c, f in zip(HAND_THRESHOLDS_MM, curve, frames)]
    return metrics, rows
