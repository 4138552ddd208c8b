"""The synthetic domain: clean UnityEyes-style renders (640x480 jpg + UnityEyes json).

Appearance model "rendered", as UnityEyes' photoreal but clean renders: skin with blotches and
pores (a fixed procedural texture, seen through a random offset per render), shaded into the eye
socket and lit from one side, a lid crease, a dark upper lash line of strands and fainter lower
lashes, a bright wet rim on the lower lid, a sclera shadowed by the upper lid, a radially textured
iris with a dark limbal ring, a black pupil and one crisp specular highlight; no sensor noise, no
blur, no equalization (those are the real camera's). Only a window around the eye is rendered (at half resolution, then
upscaled and pasted into a cheap skin background it fades into): the 640x480 jpeg encode and the
two file writes per render already dominate the cost. Parameters are drawn per batch from one
numpy Generator.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.simulate import eyes_annotations, eyes_geometry as geo, write_file
from pipeline.simulate.eyes_annotations import IRIS_TEXTURES

CANVAS_W, CANVAS_H = 640, 480
WINDOW_W, WINDOW_H = 152, 96       # the 140x84 crop box around the eye plus a feathered border
SCALE = 2                          # window rendered at 1/SCALE resolution
GAZE_PITCH_DEG, GAZE_YAW_DEG = 25.0, 30.0
HEAD_POSE_DEG = 18.0               # inside GazeML's +-20 deg filter
IRIS_LEVEL = np.array([0.22, 0.34, 0.40, 0.50, 0.46])  # grey level of each IRIS_TEXTURES entry


@dataclass
class Batch:
    shape: geo.EyeShape
    head_pose_deg: np.ndarray   # (N, 3) pitch, yaw, roll around 0
    skin: np.ndarray            # skin luminance
    sclera: np.ndarray
    iris_texture: np.ndarray    # index into IRIS_TEXTURES
    iris_phase: np.ndarray
    light_angle: np.ndarray     # rad, direction the key light comes from in the image plane
    gradient: np.ndarray        # vertical skin gradient over the canvas
    window_x0: np.ndarray       # window corner (px, even)
    window_y0: np.ndarray
    texture_offset: np.ndarray  # (N, 2) where each render's window sits on the skin and lash maps
    texture: np.ndarray         # skin texture strength


def sample_batch(rng: np.random.Generator, n: int) -> Batch:
    head = np.zeros((n, 3))
    head[:, :2] = rng.uniform(-HEAD_POSE_DEG, HEAD_POSE_DEG, (n, 2))
    pitch = np.radians(rng.uniform(-GAZE_PITCH_DEG, GAZE_PITCH_DEG, n))
    yaw = np.radians(rng.uniform(-GAZE_YAW_DEG, GAZE_YAW_DEG, n))
    width = rng.uniform(92, 116, n) * np.cos(np.radians(head[:, 1])) ** 0.5  # ~36-45 px in the crop
    cx = CANVAS_W / 2 + rng.normal(0, 20, n)
    cy = CANVAS_H / 2 + rng.normal(0, 15, n)
    shape = geo.make_shape(cx, cy, width, pitch, yaw, openness=rng.uniform(0.85, 1.15, n),
                           tilt=rng.uniform(0.0, 0.12, n), iris_frac=rng.uniform(0.19, 0.22, n),
                           pupil=rng.uniform(0.28, 0.45, n))
    margin = geo.margin_points(shape)
    centre = (margin.min(1) + margin.max(1)) / 2  # the reader's crop centre
    x0 = (np.round((centre[:, 0] - WINDOW_W / 2) / SCALE) * SCALE).astype(int)
    y0 = (np.round((centre[:, 1] - WINDOW_H / 2) / SCALE) * SCALE).astype(int)
    return Batch(shape, head, rng.uniform(0.55, 0.8, n), rng.uniform(0.75, 0.92, n),
                 rng.integers(0, len(IRIS_TEXTURES), n), rng.uniform(0, 2 * np.pi, (n, 2)),
                 rng.uniform(0, 2 * np.pi, n), rng.uniform(-0.12, 0.12, n), x0, y0,
                 rng.integers(0, TEXTURE_SIZE, (n, 2)), rng.uniform(0.03, 0.08, n))


def _texture(shape: tuple[int, int], sigma_x: float, sigma_y: float, seed: int) -> np.ndarray:
    """A fixed zero-mean, unit-sd periodic noise texture (the skin / hair maps), blurred anisotropically."""
    white = np.tile(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), (3, 3))
    f = cv2.GaussianBlur(white, (0, 0), sigma_x, sigmaY=sigma_y)[shape[0]:2 * shape[0], shape[1]:2 * shape[1]]
    return (f - f.mean()) / f.std()


TEXTURE_SIZE = 256
SKIN_MAP = 0.5 * _texture((TEXTURE_SIZE, TEXTURE_SIZE), 6.0, 6.0, 1) + 0.6 * _texture((TEXTURE_SIZE, TEXTURE_SIZE), 0.6, 0.6, 2) \
    + 0.3 * _texture((TEXTURE_SIZE, TEXTURE_SIZE), 1.5, 0.7, 3)
LASH_MAP = np.clip(0.5 + 0.4 * _texture((TEXTURE_SIZE, TEXTURE_SIZE), 0.35, 1.6, 4), 0, 1)


def _tile(texture: np.ndarray, b: "Batch", h: int, w: int) -> np.ndarray:
    """(N, h, w) window of a texture at each render's own offset (a gather, no per-image loop)."""
    rng_off = (b.texture_offset[:, :, None, None] + np.stack(np.mgrid[0:h, 0:w])[None]) % TEXTURE_SIZE
    return texture[rng_off[:, 0], rng_off[:, 1]]


def skin_profile(b: Batch, y) -> np.ndarray:
    """Background skin luminance (float32) at canvas rows y, broadcast over the batch."""
    shape = (-1,) + (1,) * (np.ndim(y) - 1)
    skin, grad = b.skin.astype(np.float32).reshape(shape), b.gradient.astype(np.float32).reshape(shape)
    return skin * (1 + grad * (np.asarray(y, np.float32) - CANVAS_H / 2) / (CANVAS_H / 2))


def _ramp(x):
    """Edge coverage at signed distance x (in grid steps): a linear anti-aliasing ramp."""
    return np.clip(x + 0.5, 0.0, 1.0)


def render_windows(b: Batch) -> np.ndarray:
    """(N, WINDOW_H/SCALE, WINDOW_W/SCALE) uint8 luminance of the eye windows.

    Terms that depend on x or y alone stay (N, 1, W) / (N, H, 1) and broadcast; the iris, pupil
    and highlight are drawn on a small patch around each iris, the cost that matters at ~1 ms/image.
    """
    s, col = b.shape.astype(np.float32), (lambda a: np.asarray(a, np.float32)[:, None, None])
    n, h, w = len(s), WINDOW_H // SCALE, WINDOW_W // SCALE
    X = col(b.window_x0) + SCALE * np.arange(w, dtype=np.float32)[None, None, :] + (SCALE - 1) / 2
    Y = col(b.window_y0) + SCALE * np.arange(h, dtype=np.float32)[None, :, None] + (SCALE - 1) / 2
    t, inside, y_up, _ = geo.opening_coords(s, X, Y)
    width = col(s.width)
    # skin: background profile, lit from one side, a soft crease above the upper lid, dark lid rims
    crease_y = y_up - 0.13 * width * np.clip(1 - 0.7 * t * t, 0, None)
    q = (Y - crease_y) / (0.045 * width)
    crease = np.clip(1 - q * q, 0, None) * np.clip(1.3 - np.abs(t), 0, 1)
    light = 1 + 0.12 * ((X - col(s.cx)) * col(np.cos(b.light_angle)) + (Y - col(s.cy)) * col(np.sin(b.light_angle))) / width
    rim = np.clip(1 + inside / (0.03 * width), 0, 1) * (inside < 0) * (np.abs(t) < 1)
    background = skin_profile(b, Y)
    socket = np.exp(-((X - col(s.cx)) / (0.7 * width)) ** 2 - ((Y - col(s.cy)) / (0.4 * width)) ** 2)
    skin_tex = 1 + col(b.texture) * _tile(SKIN_MAP, b, h, w)
    # lashes: a dark line of strands above the upper lid, thicker towards the outer corner; fainter below
    above = (y_up - Y) / (0.05 * width)
    strands = _tile(LASH_MAP, b, h, w)
    lash = np.clip(1.3 - above, 0, 1) * (above > -0.3) * np.clip(1.2 - t * t, 0, 1) * (0.7 + 0.5 * strands) * (1 + 0.25 * t)
    below = (Y - geo.lid_curves(s, t)[2]) / (0.02 * width)
    lower = np.clip(1 - np.abs(below - 1.5) / 1.5, 0, 1) * np.clip(1 - t * t, 0, 1)
    img = background * light * skin_tex * (1 - 0.15 * socket) * np.clip(1 - 0.25 * crease - 0.4 * rim - 0.8 * lash
                                                                       - 0.25 * lower * strands, 0.04, None)
    # sclera: darker towards the corners and in the upper lid's shadow
    shadow = np.clip(1 - (Y - y_up) / (0.1 * width), 0, 1)
    eye = col(b.sclera) * (1 - 0.3 * t ** 4) * (1 - 0.35 * shadow * shadow)
    _draw_iris(b, s, eye)
    img += _ramp(inside / SCALE) * (eye - img)
    img = background + FEATHER * (img - background)  # window edges = the canvas background
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


def _draw_iris(b: Batch, s: geo.EyeShape, eye: np.ndarray) -> None:
    """Iris (striated, dark limbal ring), pupil and highlight, on a patch around each iris, in place."""
    col = lambda a: np.asarray(a, np.float32)[:, None, None]  # noqa: E731
    n, h, w = eye.shape
    size = min(int(np.ceil(2 * float(s.iris.max()) / SCALE)) + 3, h, w)
    ix, iy = geo.iris_centre(s)
    # patch corner on the window grid, kept inside the window (iris outside it is under the lids)
    j0 = np.clip(np.round((ix - b.window_x0) / SCALE).astype(int) - size // 2, 0, w - size)
    i0 = np.clip(np.round((iy - b.window_y0) / SCALE).astype(int) - size // 2, 0, h - size)
    steps = np.arange(size)
    jj, ii = j0[:, None, None] + steps[None, None, :], i0[:, None, None] + steps[None, :, None]
    X = col(b.window_x0) + SCALE * jj.astype(np.float32) + (SCALE - 1) / 2
    Y = col(b.window_y0) + SCALE * ii.astype(np.float32) + (SCALE - 1) / 2
    rho, theta = geo.iris_coords(s, X, Y)
    stripes = 0.16 * np.cos(11 * theta + col(b.iris_phase[:, 0])) * (0.3 + rho) \
        + 0.08 * np.cos(23 * theta + col(b.iris_phase[:, 1]))
    iris = col(IRIS_LEVEL[b.iris_texture]) * (1 + stripes) * (1 - 0.5 * np.clip((rho - 0.78) / 0.22, 0, 1))
    radius = col(s.iris)
    flat = (np.arange(n)[:, None, None] * h + ii) * w + jj
    patch = eye.reshape(-1)[flat]
    patch += _ramp((1 - rho) * radius / SCALE) * (iris - patch)
    patch += _ramp((col(s.pupil) - rho) * radius / SCALE) * (0.04 - patch)
    hx = col(ix - 0.35 * s.iris * np.cos(b.light_angle))
    hy = col(iy - 0.35 * s.iris * np.sin(b.light_angle))
    d2 = ((X - hx) ** 2 + (Y - hy) ** 2) / (2 * (0.08 * radius) ** 2)
    patch += 0.75 * np.exp(-d2)
    eye.reshape(-1)[flat] = patch


def _feather() -> np.ndarray:
    """(H, W) window-grid weights fading the rendered window into the background at its border."""
    h, w = WINDOW_H // SCALE, WINDOW_W // SCALE
    ramp = lambda n: np.clip(np.minimum(np.arange(n), n - 1 - np.arange(n)) / 3, 0, 1)  # noqa: E731
    return np.outer(ramp(h), ramp(w)).astype(np.float32)[None]


FEATHER = _feather()


def background_rows(b: Batch) -> np.ndarray:
    """(N, 480) uint8 skin rows of every canvas (the background is a vertical gradient)."""
    rows = skin_profile(b, np.arange(CANVAS_H, dtype=np.float32)[None])
    return np.clip(rows * 255 + 0.5, 0, 255).astype(np.uint8)


def compose(b: Batch, windows: np.ndarray, rows: np.ndarray, i: int) -> np.ndarray:
    """Image i of the batch: (480, 640) uint8 background rows with the upscaled eye window pasted in."""
    canvas = np.empty((CANVAS_H, CANVAS_W), np.uint8)
    canvas[:] = rows[i][:, None]
    win = cv2.resize(windows[i], (WINDOW_W, WINDOW_H), interpolation=cv2.INTER_LINEAR)
    x0, y0 = int(b.window_x0[i]), int(b.window_y0[i])
    xa, ya = max(x0, 0), max(y0, 0)
    xb, yb = min(x0 + WINDOW_W, CANVAS_W), min(y0 + WINDOW_H, CANVAS_H)
    canvas[ya:yb, xa:xb] = win[ya - y0:yb - y0, xa - x0:xb - x0]
    return canvas


def write_renders(out_dir: Path, rng: np.random.Generator, first: int, n: int, quality: int) -> int:
    """Render images first..first+n-1 as `{i}.jpg` + `{i}.json` (UnityEyes numbers from 1)."""
    b = sample_batch(rng, n)
    windows, rows, anns = render_windows(b), background_rows(b), eyes_annotations.annotations(b, CANVAS_H)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    for i in range(n):
        ok, jpg = cv2.imencode(".jpg", compose(b, windows, rows, i), params)
        write_file(out_dir / f"{first + i}.jpg", jpg)
        write_file(out_dir / f"{first + i}.json", json.dumps(anns[i]).encode())
    return n
