"""The real-like domain: MPIIGaze-style 36x60 normalized eye images, as a laptop camera sees an eye.

Calibrated on real MPIIGaze normalized patches (bench/real_reference.py): the eye opening spans
most of the crop's width, the brow often shows along the top, a lid crease above the upper lid,
lashes along it, skin with blotches and pores, some glasses frames, strong one-sided light, and
after the camera's blur, noise and compression each image is histogram-equalized (as MPIIGaze's
normalized images are), which spreads its grey levels flat over 0-255 and amplifies the skin's
texture and the sensor noise in flat regions.

A different appearance model from the synthetic renders, on the same geometry (so labels
agree). People (participants) fix face and skin, sessions (days) fix light and camera, frames
vary gaze, small head motion and noise; leave-participants-out splits see new faces drawn from
the same spreads.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.simulate import eyes_geometry as geo

IMAGE_H, IMAGE_W = 36, 60
# Calibrated on the 72 real MPIIGaze patches with bench/real_reference.py, on renders of the
# non-test people (BENCHMARKS.md, "Real-like eyes"): each range moved where a statistic disagreed.
WIDTH_FRAC = (0.62, 0.78)   # eye width / image width: the finder's 0.64 on the patches (0.68-0.86 read 0.71)
OPENNESS = (0.55, 0.8)      # lids: at pitch 0, 0.15-0.22 eye widths above the corner line, 0.10-0.15 below,
#                             a 9-10 mm fissure on a 30 mm eye; 0.7-1.05 drew startled, round eyes
LIGHT_Y = (-0.15, 0.4)      # brighter below than above on most days (screen light on the cheek, the
#                             brow's shade): the patches' gradients point down; -0.4..0.15 pointed them up
BLUR_SIGMA = (0.25, 0.55)   # lower end of a session's defocus (px): matches gradient energy and the
#                             high-frequency share (0.35-0.7 left 0.022 against the patches' 0.035)
PAD = 8  # the person's skin field is larger than the image: frames see shifted windows of it


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma_x: float, sigma_y: float) -> np.ndarray:
    """(H, W) zero-mean unit-sd Gaussian noise blurred anisotropically (pores, blotches, hairs)."""
    f = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), sigma_x, sigmaY=sigma_y,
                         borderType=cv2.BORDER_REFLECT)
    return (f - f.mean()) / (f.std() + 1e-6)


@dataclass
class Person:
    skin: float                    # skin albedo
    skin_field: np.ndarray         # (H+2PAD, W+2PAD) blotches + pores, unit sd mixture
    texture: float                 # skin texture amplitude
    sclera: float                  # sclera / skin
    iris: float                    # iris albedo
    width_frac: float              # eye width / image width
    openness: float
    tilt: float
    iris_frac: float
    lashes: float
    crease: float                  # lid fold darkness
    crease_gap: float              # fold height above the lid (eye widths)
    brow: float                    # brow darkness (0: no brow in the crop)
    brow_y: float                  # brow centre (fraction of image height from the top; < 0 above it)
    brow_slope: float
    socket: float                  # darkening of the eye socket around the opening
    glasses: bool
    frame_y: float                 # frame rim y (px) at the image centre
    frame_curve: float
    frame_slope: float
    frame_dark: bool               # dark or shiny (bright) rim
    glint: tuple[float, float]     # screen glint offset in iris radii
    ball_drop: float               # eyeball centre below the corner line (eye widths; geo.BALL_DROP)
    radius_frac: float = geo.HUMAN_RADIUS_FRAC  # eyeball radius / eye width (bench/eye_gap.py varies it)


@dataclass
class Session:
    level: float
    light: tuple[float, float]     # one-sided light gradient (x, y); mostly from above (room, screen)
    blur: tuple[float, float]      # defocus sigma range (px)
    noise: float                   # sensor noise sd before equalization
    quality: tuple[int, int]       # jpeg quality range
    reflection: float              # lens reflection strength (glasses)
    reflection_pos: float


def sample_person(rng: np.random.Generator) -> Person:
    field = 0.6 * smooth_noise(rng, (IMAGE_H + 2 * PAD, IMAGE_W + 2 * PAD), 3.0, 3.0) \
        + 1.2 * smooth_noise(rng, (IMAGE_H + 2 * PAD, IMAGE_W + 2 * PAD), 9.0, 7.0) \
        + 0.5 * smooth_noise(rng, (IMAGE_H + 2 * PAD, IMAGE_W + 2 * PAD), 1.0, 0.6)
    return Person(skin=rng.uniform(0.45, 0.8), skin_field=field.astype(np.float32), texture=rng.uniform(0.04, 0.12),
                  sclera=rng.uniform(0.85, 1.2), iris=rng.uniform(0.05, 0.22),
                  width_frac=rng.uniform(*WIDTH_FRAC), openness=rng.uniform(*OPENNESS), tilt=rng.uniform(-0.04, 0.1),
                  iris_frac=rng.uniform(0.18, 0.21), lashes=rng.uniform(0.6, 0.95), crease=rng.uniform(0.1, 0.45),
                  crease_gap=rng.uniform(0.08, 0.2), brow=rng.uniform(0.0, 0.7) * (rng.random() < 0.6),
                  brow_y=rng.uniform(-0.2, 0.08), brow_slope=rng.uniform(-0.1, 0.1), socket=rng.uniform(0.05, 0.3),
                  glasses=bool(rng.random() < 0.3), frame_y=rng.uniform(-2.0, 10.0), frame_curve=rng.uniform(0.002, 0.012), frame_slope=rng.uniform(-0.25, 0.25),
                  frame_dark=bool(rng.random() < 0.6), glint=(rng.uniform(-0.4, 0.4), rng.uniform(-0.5, 0.1)),
                  ball_drop=rng.uniform(*geo.BALL_DROP))


def sample_session(rng: np.random.Generator) -> Session:
    lo = rng.uniform(*BLUR_SIGMA)
    return Session(level=rng.uniform(0.6, 1.1), light=(rng.uniform(-0.5, 0.5), rng.uniform(*LIGHT_Y)), blur=(lo, lo + rng.uniform(0.1, 0.3)),
                   noise=rng.uniform(0.01, 0.03), quality=(int(rng.integers(60, 80)), int(rng.integers(80, 96))),
                   reflection=rng.uniform(0.05, 0.3), reflection_pos=rng.uniform(-40, 40))


def _strands(rng: np.random.Generator, n: int, sigma_x: float, sigma_y: float) -> np.ndarray:
    """(N, H, W) hair-like streak noise in [0, 1] (brow hairs: along x; lashes: along y)."""
    return np.stack([np.clip(0.5 + 0.35 * smooth_noise(rng, (IMAGE_H, IMAGE_W), sigma_x, sigma_y), 0, 1)
                     for _ in range(n)])


def render(rng: np.random.Generator, person: Person, session: Session, pitch, yaw) -> np.ndarray:
    """(N, 36, 60) uint8 left-eye-like images for gaze (pitch, yaw) in the readers' convention."""
    n = len(pitch)
    col = lambda a: np.asarray(a, np.float32).reshape(-1, 1, 1)  # noqa: E731
    dx, dy = rng.normal(0, 1.5, n), rng.normal(0, 1.2, n)
    width = person.width_frac * IMAGE_W * rng.uniform(0.96, 1.04, n)
    shape = geo.make_shape(IMAGE_W / 2 - 0.5 + dx, IMAGE_H / 2 + 1.0 + dy, width, pitch, yaw,
                           openness=person.openness * rng.uniform(0.9, 1.1, n), tilt=person.tilt,
                           iris_frac=person.iris_frac, pupil=rng.uniform(0.3, 0.45, n), ball_drop=person.ball_drop,
                           radius_frac=person.radius_frac)
    s = shape.astype(np.float32)
    X = np.arange(IMAGE_W, dtype=np.float32)[None, None, :]
    Y = np.arange(IMAGE_H, dtype=np.float32)[None, :, None]
    t, inside, y_up, y_lo = geo.opening_coords(s, X, Y)
    w = col(s.width)
    # skin: the person's blotches and pores move with the head; the socket is shaded around the eye
    ox, oy = np.clip(np.round(dx).astype(int) + PAD, 0, 2 * PAD), np.clip(np.round(dy).astype(int) + PAD, 0, 2 * PAD)
    field = np.stack([person.skin_field[y:y + IMAGE_H, x:x + IMAGE_W] for x, y in zip(ox, oy)])
    r2 = ((X - col(s.cx)) / (0.75 * w)) ** 2 + ((Y - col(s.cy)) / (0.45 * w)) ** 2
    skin = person.skin * (1 + person.texture * field) * (1 - person.socket * np.exp(-r2))
    # brow: a dark band of horizontal hairs near the top; lid crease: a dark fold above the lid
    brow_c = person.brow_y * IMAGE_H + person.brow_slope * (X - IMAGE_W / 2) + col(dy)
    brow = person.brow * np.exp(-((Y - brow_c) / 4.0) ** 4) * (0.6 + 0.8 * _strands(rng, n, 2.5, 0.5))
    crease_y = y_up - person.crease_gap * w * np.clip(1 - 0.6 * t * t, 0, None)
    crease = person.crease * np.exp(-((Y - crease_y) / 1.3) ** 2) * np.clip(1.2 - np.abs(t), 0, 1)
    above = y_up - Y
    lash = np.clip(1.4 - above / 2.5, 0, 1) * (above > -0.8) * np.clip(1.25 - np.abs(t) ** 2, 0, 1)
    lash = lash * (0.75 + 0.4 * _strands(rng, n, 0.4, 1.5))
    below = Y - y_lo
    lower = np.clip(1 - np.abs(below) / 1.5, 0, 1) * np.clip(1 - np.abs(t), 0, 1)
    # folds under the eye: a fainter crease below the lower lid
    bag_y = y_lo + person.crease_gap * 0.8 * w * np.clip(1 - 0.5 * t * t, 0, None)
    lower = lower + 0.8 * person.crease * np.exp(-((Y - bag_y) / 1.2) ** 2) * np.clip(1.1 - np.abs(t), 0, 1)
    skin = skin * np.clip(1 - brow - crease - person.lashes * lash - 0.3 * lower, 0.03, None)
    # eyeball: sclera in the upper lid's shadow, dark iris with a limbal ring, pupil, screen glints
    shadow = np.clip(1 - (Y - y_up) / 4.0, 0, 1)
    # (the inner corner's sclera is in the nose's shade, with the pinkish-dark caruncle at the corner)
    inner = np.clip((-t - 0.3) / 0.7, 0, 1)
    eye = person.skin * person.sclera * (1 - 0.35 * t ** 4) * (1 - 0.5 * shadow) * (1 - 0.45 * inner)
    rho, theta = geo.iris_coords(s, X, Y)
    radius = col(s.iris)
    iris = person.iris * (1 + 0.25 * rho + 0.15 * np.cos(9 * theta) * rho) * (1 - 0.4 * np.clip((rho - 0.8) / 0.2, 0, 1))
    eye += np.clip((1 - rho) * radius / 1.0 + 0.5, 0, 1) * (iris - eye)
    eye += np.clip((col(s.pupil) - rho) * radius / 1.0 + 0.5, 0, 1) * (0.4 * person.iris - eye)
    ix, iy = geo.iris_centre(s)
    for k, (gx, gy) in enumerate((person.glint, (person.glint[0] + 0.35, person.glint[1] + 0.05))):
        amp = col(rng.uniform(0.6, 1.2, n) * (rng.random(n) < (0.9 if k == 0 else 0.4)))
        d2 = (X - col(ix + gx * s.iris)) ** 2 + (Y - col(iy + gy * s.iris)) ** 2
        eye += amp * np.exp(-d2 / (2 * 0.6 ** 2))
    img = skin + np.clip(inside + 0.5, 0, 1) * (eye - skin)
    if person.glasses:  # a frame rim (dark or shiny) across the crop, a reflection band on the lens
        rim_y = person.frame_y + person.frame_slope * (X - IMAGE_W / 2) + person.frame_curve * (X - IMAGE_W / 2) ** 2 + col(dy)
        rim = np.exp(-((Y - rim_y) / 0.9) ** 2)
        lens = Y > rim_y
        band = np.exp(-(((X + 0.6 * Y) - session.reflection_pos - IMAGE_W / 2) / 6.0) ** 2)
        img = img * (1 - 0.85 * rim) if person.frame_dark else img + 0.8 * rim
        img = img + session.reflection * band * lens
    return camera(rng, img, session)


def camera(rng: np.random.Generator, img: np.ndarray, session: Session) -> np.ndarray:
    """(N, H, W) radiance (~0-1.3) -> uint8 images as the session's camera and MPIIGaze's
    normalization leave them: light from one side, defocus, sensor noise, JPEG, then equalization."""
    n, h, w = img.shape
    X, Y = np.arange(w, dtype=np.float32)[None, None, :], np.arange(h, dtype=np.float32)[None, :, None]
    u, v = (X - w / 2) / (w / 2), (Y - h / 2) / (h / 2)
    img = img * session.level * np.clip(1 + session.light[0] * u + session.light[1] * v, 0.2, None)
    sigmas = rng.uniform(*session.blur, n)
    img = np.stack([cv2.GaussianBlur(im, (0, 0), float(sg)) for im, sg in zip(img, sigmas)])
    img = img + rng.normal(0, 1, img.shape).astype(np.float32) * (session.noise * (0.5 + np.sqrt(np.clip(img, 0, None))))
    img8 = np.clip(img * 200 + 0.5, 0, 255).astype(np.uint8)
    qualities = rng.integers(session.quality[0], session.quality[1] + 1, n)
    return np.stack([equalize(cv2.imdecode(cv2.imencode(".jpg", im, [cv2.IMWRITE_JPEG_QUALITY, int(q)])[1],
                                           cv2.IMREAD_GRAYSCALE)) for im, q in zip(img8, qualities)])


def equalize(im: np.ndarray) -> np.ndarray:
    """Histogram equalization with the mapping taken at the 55x35 crop size ingest resizes to, so the
    crops' grey levels come out flat over 0-255 as in real normalized patches (equalizing the 60x36
    image instead leaves the resized crop's extremes thin: a tell a texture classifier finds)."""
    small = cv2.resize(im, (55, 35), interpolation=cv2.INTER_AREA)
    hist = np.bincount(small.ravel(), minlength=256)
    cdf = np.cumsum(hist)
    level = (cdf - cdf[cdf > 0][0]) / max(cdf[-1] - cdf[cdf > 0][0], 1)
    lut = np.clip(np.round((1.01 * (level - 0.5) + 0.5) * 255), 0, 255).astype(np.uint8)  # resizing thins the ends
    return lut[im]
