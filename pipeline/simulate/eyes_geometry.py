"""Eye geometry shared by both simulated domains, vectorized over a batch of N eyes.

One model places everything, so the two renderers differ in appearance only and their labels
agree with the readers' convention (pipeline.formats): the iris centre sits at the eyeball
centre plus R * (-cos(pitch) sin(yaw), -sin(pitch)) in image pixels (y down), so yaw < 0 moves
the iris to +x and pitch > 0 moves it up; it is an ellipse foreshortened by cos(pitch) cos(yaw)
along the gaze direction. The eyelids open with pitch (looking up lifts the upper lid).
Every array field is (N,); grids are (N, H, W) or broadcastable.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# Where the eyeball centre sits relative to the line through the eye corners, in eye widths below it
# (< 0: above), drawn per person or render in both domains. Human eyes: the pupil lies about 1 mm above
# the intercanthal line and the upper lid covers the top 1-2 mm of the iris; UnityEyes' own annotation
# (a full 1.json: iris centre 0.30 widths above the corners at 23 deg up) puts it 0.05 above. At 0.03
# below, both renderers drew the iris low in the opening, with sclera showing above it.
BALL_DROP = (-0.05, -0.01)
# Eyeball radius over the corner-to-corner width of a human eye (12-13 mm over a 28-30 mm fissure); it
# sets how far the iris moves per degree of gaze in eye widths. UnityEyes' narrower openings put
# it at ~0.63 (eyes_synthetic.RADIUS_FRAC), so its crops move the iris ~1.4x further per degree.
HUMAN_RADIUS_FRAC = 0.45


@dataclass
class EyeShape:
    cx: np.ndarray        # centre of the eye opening (px)
    cy: np.ndarray
    width: np.ndarray     # corner to corner (px)
    tilt: np.ndarray      # outer (+x) corner raised by tilt * width
    upper: np.ndarray     # upper-lid height above the corner line, in widths
    lower: np.ndarray     # lower-lid depth below it, in widths
    radius: np.ndarray    # eyeball radius (px)
    iris: np.ndarray      # iris radius (px)
    pupil: np.ndarray     # pupil radius as a fraction of the iris radius
    pitch: np.ndarray     # gaze (rad), reader convention
    yaw: np.ndarray
    ball_drop: np.ndarray  # eyeball centre below the corner line, in widths (< 0: above it)

    def __len__(self) -> int:
        return len(self.cx)

    def astype(self, dtype) -> "EyeShape":
        """Rendering runs in float32 (SIMD, half the memory traffic); labels keep float64."""
        return EyeShape(**{k: np.asarray(v, dtype) for k, v in vars(self).items()})


def lid_opening(pitch, openness):
    """Upper/lower lid heights (in eye widths) for a gaze pitch: lids follow the gaze."""
    s = np.sin(pitch)
    upper = np.clip(openness * (0.27 + 0.42 * s), 0.05, 0.5)
    lower = np.clip(openness * (0.19 + 0.10 * s), 0.08, 0.3)
    return upper, lower


def make_shape(cx, cy, width, pitch, yaw, *, openness, tilt, iris_frac, pupil, ball_drop,
               radius_frac=HUMAN_RADIUS_FRAC) -> EyeShape:
    upper, lower = lid_opening(pitch, openness)
    f = lambda a: np.broadcast_to(np.asarray(a, np.float64), np.shape(cx)).copy()  # noqa: E731
    return EyeShape(f(cx), f(cy), f(width), f(tilt), upper, lower, f(radius_frac * width),
                    f(iris_frac * width), f(pupil), f(pitch), f(yaw), f(ball_drop))


def _col(a):
    return np.asarray(a)[:, None, None]


def iris_centre(s: EyeShape) -> tuple[np.ndarray, np.ndarray]:
    ball_y = s.cy + s.ball_drop * s.width
    return (s.cx - s.radius * np.cos(s.pitch) * np.sin(s.yaw),
            ball_y - s.radius * np.sin(s.pitch))


def _like(a, t):
    """Per-eye values shaped to broadcast against t of shape (N, ...)."""
    return np.asarray(a).reshape((-1,) + (1,) * (np.ndim(t) - 1))


def lid_curves(s: EyeShape, t):
    """Corner line, upper and lower lid y at opening coordinate t in [-1, 1] (inner -1, outer +1)."""
    w = _like(s.width, t)
    mid = _like(s.cy, t) - _like(s.tilt, t) * w * t / 2
    bump = np.clip(1 - t * t, 0, None)
    y_up = mid - _like(s.upper, t) * w * bump ** 0.85 * (1 - 0.12 * t)
    y_lo = mid + _like(s.lower, t) * w * bump ** 1.1
    return mid, y_up, y_lo


def opening_coords(s: EyeShape, X, Y):
    """t (along the opening), signed px distance inside the opening (>0 inside), y of both lids."""
    t = (X - _col(s.cx)) / (_col(s.width) / 2)
    mid, y_up, y_lo = lid_curves(s, t)
    beyond = np.clip(np.abs(t) - 1, 0, None) * _col(s.width)  # closed past the corners
    return t, np.minimum(Y - y_up, y_lo - Y) - beyond, y_up, y_lo


def iris_coords(s: EyeShape, X, Y):
    """Normalized elliptic radius rho (1 on the limbus) and polar angle about the iris centre."""
    ix, iy = iris_centre(s)
    dx, dy = X - _col(ix), Y - _col(iy)
    gx, gy = -np.sin(s.yaw) * np.cos(s.pitch), -np.sin(s.pitch)  # image-plane gaze direction
    norm = np.hypot(gx, gy) + 1e-9
    ux, uy = _col(gx / norm), _col(gy / norm)
    fore = _col(np.maximum(np.cos(s.pitch) * np.cos(s.yaw), 0.2))  # foreshortening along the gaze
    a = (dx * ux + dy * uy) / fore
    b = -dx * uy + dy * ux
    return np.sqrt(a * a + b * b) / _col(s.iris), np.arctan2(b, a)  # (np.hypot is ~15x slower)


def margin_points(s: EyeShape) -> np.ndarray:
    """(N, 16, 2) interior margin in UnityEyes' order: inner corner, upper lid, outer corner, lower lid."""
    t_up = np.linspace(-1, 1, 9)
    t_lo = np.linspace(1, -1, 9)[1:-1]
    _, y_up, _ = lid_curves(s, np.broadcast_to(t_up, (len(s), 9)))
    _, _, y_lo = lid_curves(s, np.broadcast_to(t_lo, (len(s), 7)))
    t = np.concatenate([t_up, t_lo])
    x = s.cx[:, None] + t[None] * s.width[:, None] / 2
    return np.stack([x, np.concatenate([y_up, y_lo], 1)], -1)


def iris_points(s: EyeShape, n: int = 32) -> np.ndarray:
    """(N, n, 2) limbus outline (whether or not the lids hide it), as UnityEyes' iris_2d."""
    ix, iy = iris_centre(s)
    gx, gy = -np.sin(s.yaw) * np.cos(s.pitch), -np.sin(s.pitch)
    norm = np.hypot(gx, gy) + 1e-9
    ux, uy = (gx / norm)[:, None], (gy / norm)[:, None]
    fore = np.maximum(np.cos(s.pitch) * np.cos(s.yaw), 0.2)[:, None]
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)[None]
    a, b = np.cos(ang) * s.iris[:, None] * fore, np.sin(ang) * s.iris[:, None]
    return np.stack([ix[:, None] + a * ux - b * uy, iy[:, None] + a * uy + b * ux], -1)


def caruncle_points(s: EyeShape) -> np.ndarray:
    """(N, 7, 2) small loop at the inner corner, as UnityEyes' caruncle_2d."""
    ang = np.linspace(0, 2 * np.pi, 7, endpoint=False)[None]
    r = 0.05 * s.width[:, None]
    x0 = (s.cx - 0.5 * s.width)[:, None] - r
    y0 = (s.cy + s.tilt * s.width / 2)[:, None]
    return np.stack([x0 + r * np.cos(ang), y0 + 0.8 * r * np.sin(ang)], -1)

