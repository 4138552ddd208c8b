"""The real-like domain: MPIIGaze-style 36x60 normalized eye images, as a laptop camera sees an eye.

A different appearance model from the synthetic renders, on the same geometry (so labels agree):
skin with blotchy texture, a grey sclera, a dark low-detail iris, upper lashes and lid shadow,
an eyebrow edge, corneal glints of the screen, glasses for some participants (a dark frame rim
and a lens reflection), uneven light and vignetting, low contrast, defocus, sensor noise and
JPEG compression. People (participants) and sessions (days) fix the slow-changing parts, so
leave-participants-out splits see new faces.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.simulate import eyes_geometry as geo

IMAGE_H, IMAGE_W = 36, 60


@dataclass
class Person:
    skin: float
    sclera_gain: float
    iris: float
    width_frac: float
    openness: float
    tilt: float
    lashes: float
    brow: float
    glasses: bool
    frame_y: float
    frame_slope: float
    glint: tuple[float, float]     # glint offset in iris radii


@dataclass
class Session:
    level: float                   # exposure
    gradient: tuple[float, float]  # uneven light (x, y)
    contrast: float
    blur: tuple[float, float]      # defocus sigma range (px)
    noise: float
    quality: tuple[int, int]       # jpeg quality range
    reflection: float              # lens reflection strength (glasses)
    reflection_pos: float


def sample_person(rng: np.random.Generator) -> Person:
    return Person(skin=rng.uniform(0.35, 0.7), sclera_gain=rng.uniform(1.05, 1.35), iris=rng.uniform(0.1, 0.3),
                  width_frac=rng.uniform(0.64, 0.76), openness=rng.uniform(0.8, 1.15), tilt=rng.uniform(-0.02, 0.1),
                  lashes=rng.uniform(0.35, 0.75), brow=rng.uniform(0.0, 0.6), glasses=bool(rng.random() < 0.35),
                  frame_y=rng.uniform(1.0, 7.0), frame_slope=rng.uniform(-0.08, 0.08),
                  glint=(rng.uniform(-0.4, 0.4), rng.uniform(-0.5, 0.1)))


def sample_session(rng: np.random.Generator) -> Session:
    lo = rng.uniform(0.5, 1.1)
    return Session(level=rng.uniform(0.55, 1.25), gradient=tuple(rng.uniform(-0.35, 0.35, 2)),
                   contrast=rng.uniform(0.45, 0.8), blur=(lo, lo + rng.uniform(0.1, 0.5)),
                   noise=rng.uniform(0.015, 0.045), quality=(int(rng.integers(30, 60)), int(rng.integers(60, 90))),
                   reflection=rng.uniform(0.05, 0.3), reflection_pos=rng.uniform(-40, 40))


def render(rng: np.random.Generator, person: Person, session: Session, pitch, yaw) -> np.ndarray:
    """(N, 36, 60) uint8 left-eye-like images for gaze (pitch, yaw) in the readers' convention."""
    n = len(pitch)
    col = lambda a: np.asarray(a, np.float32).reshape(-1, 1, 1)  # noqa: E731
    width = person.width_frac * IMAGE_W * rng.uniform(0.96, 1.04, n)
    shape = geo.make_shape(IMAGE_W / 2 - 0.5 + rng.normal(0, 1.2, n), IMAGE_H / 2 - 0.5 + rng.normal(0, 1.0, n),
                           width, pitch, yaw, openness=person.openness * rng.uniform(0.9, 1.1, n),
                           tilt=person.tilt, iris_frac=0.2, pupil=rng.uniform(0.3, 0.45, n))
    s = shape.astype(np.float32)
    X = np.arange(IMAGE_W, dtype=np.float32)[None, None, :]
    Y = np.arange(IMAGE_H, dtype=np.float32)[None, :, None]
    t, inside, y_up, y_lo = geo.opening_coords(s, X, Y)
    # skin with low-frequency blotches, lashes above the upper lid, an eyebrow edge near the top
    ph = col(rng.uniform(0, 2 * np.pi, n))
    skin = person.skin * (1 + 0.07 * np.cos(0.21 * X + 0.13 * Y + ph) + 0.05 * np.cos(0.09 * X - 0.31 * Y + 2 * ph))
    above = y_up - Y
    comb = 0.5 + 0.5 * np.cos(2.6 * X + 0.9 * above + col(rng.uniform(0, 2 * np.pi, n)))
    lashes = np.clip(1 - above / 3.5, 0, 1) * (above > -0.8) * np.clip(1.2 - np.abs(t), 0, 1) * (0.55 + 0.45 * comb)
    below = Y - y_lo
    lower_lashes = np.clip(1 - below / 1.5, 0, 1) * (below > -0.5) * np.clip(1 - np.abs(t), 0, 1)
    brow_y = col(s.cy - 0.62 * s.width)
    brow = person.brow * np.exp(-((Y - brow_y) / 3.0) ** 2) * np.clip(1.4 - np.abs(t) * 0.6, 0, 1)
    skin = skin * (1 - person.lashes * lashes - 0.25 * lower_lashes - brow)
    # eyeball: grey sclera in the lid's shadow, dark iris, pupil barely darker, screen glints
    shadow = np.clip(1 - (Y - y_up) / 4.0, 0, 1)
    eye = person.skin * person.sclera_gain * (1 - 0.3 * t ** 4) * (1 - 0.45 * shadow)
    rho, _ = geo.iris_coords(s, X, Y)
    radius = col(s.iris)
    eye += np.clip((1 - rho) * radius / 1.2 + 0.5, 0, 1) * (person.iris * (1 + 0.2 * rho) - eye)
    eye += np.clip((col(s.pupil) - rho) * radius / 1.2 + 0.5, 0, 1) * (0.55 * person.iris - eye)
    ix, iy = geo.iris_centre(s)
    for k, (gx, gy) in enumerate((person.glint, (person.glint[0] + 0.35, person.glint[1] + 0.05))):
        amp = col(rng.uniform(0.5, 1.0, n) * (rng.random(n) < (0.95 if k == 0 else 0.5)))
        d2 = (X - col(ix + gx * s.iris)) ** 2 + (Y - col(iy + gy * s.iris)) ** 2
        eye += amp * np.exp(-d2 / (2 * 0.5 ** 2))
    img = skin + np.clip(inside + 0.5, 0, 1) * (eye - skin)
    if person.glasses:  # dark frame rim, a tinted lens below it, a broad reflection on the lens
        rim = np.abs(Y - (person.frame_y + person.frame_slope * (X - IMAGE_W / 2))) < 1.2
        lens = Y > person.frame_y + person.frame_slope * (X - IMAGE_W / 2)
        band = np.exp(-(((X + 0.6 * Y) - session.reflection_pos - IMAGE_W / 2) / 6.0) ** 2)
        img = np.where(rim, 0.15 * img, img * np.where(lens, 0.9, 1.0) + session.reflection * band * lens)
    # camera: uneven light and vignetting, low contrast, defocus, noise, compression
    u, v = (X - IMAGE_W / 2) / (IMAGE_W / 2), (Y - IMAGE_H / 2) / (IMAGE_H / 2)
    light = session.level * (1 + session.gradient[0] * u + session.gradient[1] * v) * (1 - 0.2 * u * u - 0.15 * v * v)
    img = img * light
    mean = img.mean(axis=(1, 2), keepdims=True)
    img = mean + session.contrast * (img - mean)
    sigmas = rng.uniform(*session.blur, n)
    img = np.stack([cv2.GaussianBlur(im, (0, 0), float(sg)) for im, sg in zip(img, sigmas)])
    img = img + rng.normal(0, 1, img.shape).astype(np.float32) * (session.noise * (0.5 + np.sqrt(np.clip(img, 0, None))))
    img8 = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    qualities = rng.integers(session.quality[0], session.quality[1] + 1, n)
    return np.stack([cv2.imdecode(cv2.imencode(".jpg", im, [cv2.IMWRITE_JPEG_QUALITY, int(q)])[1],
                                  cv2.IMREAD_GRAYSCALE) for im, q in zip(img8, qualities)])
