"""The synthetic domain: clean UnityEyes-style renders (640x480 jpg + UnityEyes json).

Framing as UnityEyes' renders: the eye region fills the frame (the eye opening ~0.35 of its
width corner to corner, the iris ~0.63 of the opening, the brow along the top, the cheek below,
the background showing where the region's mesh ends in the corners). Appearance model
"rendered", photoreal but clean:
- a height field of the region (eyeball bulge, brow ridge, the hollow under it, the lid fold, the
  fold under the eye) shaded by one directional light plus ambient light, whose direction,
  elevation and strength vary per render (UnityEyes' random environment lighting);
- skin of a per-render tone with blotches and pores, a brow of hair strands, upper lashes of
  strands (longer towards the outer corner) and fainter lower lashes;
- a sclera shadowed by the upper lid, a caruncle, an iris with radial striations, a collarette
  and a dark limbal ring, a black pupil, a sharp specular highlight on the cornea and a wet rim
  along the lower lid.
No sensor noise, no blur, no equalization: those are the real camera's. The labels come from the
same geometry (eyes_geometry) that places every drawn part, so they are exact.

Speed: the frame is rendered on a grid of SCALE x SCALE pixel cells (128x96, 1/25 of the
pixels: the ingest crop shrinks the eye ~6x and the whole frame 11x, so finer rendering is
invisible downstream), in chunks small enough to stay in cache, then upscaled, with a fixed
full-resolution pore texture (at a random offset per render) added where the skin is. CPU per
render (BENCHMARKS.md): ~1.1 ms on the grid, ~0.7 ms upscaling + pores, ~0.8 ms for the JPEG
encode (quality 75), and the two file writes (0.05 ms on tmpfs, up to ~0.8 ms on disk).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.simulate import eyes_annotations, eyes_geometry as geo, write_file
from pipeline.simulate.eyes_annotations import IRIS_TEXTURES

CANVAS_W, CANVAS_H = 640, 480
SCALE = 5                                       # frame rendered on SCALE x SCALE pixel cells
GRID_W, GRID_H = CANVAS_W // SCALE, CANVAS_H // SCALE
COARSE = 20                                     # slowly varying fields: on COARSE x COARSE pixel cells
EYE_WIN_W, EYE_WIN_H = 104, 77                  # cells around each eye where the opening and lashes are drawn
CHUNK = 16                                      # renders per vectorized pass (arrays stay in cache)
GAZE_PITCH_DEG, GAZE_YAW_DEG = 25.0, 30.0
HEAD_POSE_DEG = 18.0                            # inside GazeML's +-20 deg filter
MESH_EDGES = 4                                  # straight edges cutting the frame's corners
# Proportions read off the UnityEyes references (bench/real_reference.py --landmarks): the opening
# spans ~0.35 of the frame corner to corner (222 px), the iris ~0.63 of the opening (as in a genuine
# UnityEyes JSON: 77 of 125 px), the eyeball ~1.9 iris radii, the lids ~0.5 opening widths apart at
# the iris. The region's mesh reaches MESH_SCALE x further in eye widths than for the old 0.49-frame
# eye, and the light is flatter: the frames' grey mean / sd and gradient energy stay the references'.
EYE_WIDTH_PX = (205.0, 250.0)
IRIS_FRAC = (0.31, 0.35)                        # iris radius / eye width
RADIUS_FRAC = 0.63                              # eyeball radius / eye width
OPENNESS = (0.85, 1.2)                          # x eyes_geometry.lid_opening's heights (wider: the ingest crop cuts the lids)
MESH_SCALE = 1.25
AMBIENT = (0.35, 0.7)                           # ambient share of the light: the references are lit flatly
IRIS_LEVEL = np.array([0.08, 0.13, 0.18, 0.27, 0.22])  # grey albedo of each IRIS_TEXTURES entry


@dataclass
class Batch:
    shape: geo.EyeShape
    head_pose_deg: np.ndarray   # (N, 3) pitch, yaw, roll around 0
    skin: np.ndarray            # skin albedo (grey)
    sclera: np.ndarray          # sclera albedo
    iris_texture: np.ndarray    # index into IRIS_TEXTURES
    iris_phase: np.ndarray      # (N, 3) phases of the iris striations
    light_angle: np.ndarray     # rad, image-plane direction the key light comes from
    light_elevation: np.ndarray  # rad from the camera axis
    ambient: np.ndarray         # share of ambient light
    falloff: np.ndarray         # light falling off across the region, away from the key light
    exposure: np.ndarray
    texture: np.ndarray         # skin texture strength
    texture_offset: np.ndarray  # (N, 2) where each render sits on the grid texture maps
    detail_offset: np.ndarray   # (N, 2) where each render sits on the full-resolution pore map
    brow_dark: np.ndarray       # brow hair darkness
    brow_gap: np.ndarray        # brow centre line above the eye centre (eye widths)
    brow_slope: np.ndarray
    brow_thick: np.ndarray      # brow half-thickness (eye widths)
    ridge: np.ndarray           # brow-ridge height (eye widths)
    crease_gap: np.ndarray      # lid fold above the upper lid (eye widths)
    crease_dark: np.ndarray
    bag: np.ndarray             # depth of the fold under the eye
    lashes: np.ndarray          # lash density
    lash_len: np.ndarray        # upper-lash length (eye widths)
    mesh: np.ndarray            # (N, 3 + MESH_EDGES) region mesh: rotation, centre offset and edge distances (eye widths)
    background: np.ndarray      # grey level beyond the mesh


def sample_batch(rng: np.random.Generator, n: int) -> Batch:
    head = np.zeros((n, 3))
    head[:, :2] = rng.uniform(-HEAD_POSE_DEG, HEAD_POSE_DEG, (n, 2))
    pitch = np.radians(rng.uniform(-GAZE_PITCH_DEG, GAZE_PITCH_DEG, n))
    yaw = np.radians(rng.uniform(-GAZE_YAW_DEG, GAZE_YAW_DEG, n))
    width = rng.uniform(*EYE_WIDTH_PX, n) * np.cos(np.radians(head[:, 1])) ** 0.5
    cx = CANVAS_W / 2 + rng.normal(0, 18, n)
    cy = CANVAS_H / 2 + rng.normal(0, 14, n)
    tilt = rng.uniform(-0.2, 0.1, n)  # the corner line's slope (the region's roll in the image)
    shape = geo.make_shape(cx, cy, width, pitch, yaw, openness=rng.uniform(*OPENNESS, n),
                           tilt=tilt, iris_frac=rng.uniform(*IRIS_FRAC, n),
                           pupil=rng.uniform(0.28, 0.45, n), radius_frac=RADIUS_FRAC,
                           ball_drop=rng.uniform(*geo.BALL_DROP, n))
    u = lambda lo, hi: rng.uniform(lo, hi, n)  # noqa: E731
    mesh = np.concatenate([u(np.pi / 4 - 0.3, np.pi / 4 + 0.3)[:, None], rng.uniform(-0.15, 0.15, (n, 2)) * MESH_SCALE,
                           rng.uniform(0.72, 1.1, (n, MESH_EDGES)) * MESH_SCALE], 1)
    return Batch(shape, head, skin=u(0.4, 0.85), sclera=u(0.7, 0.88),
                 iris_texture=rng.integers(0, len(IRIS_TEXTURES), n), iris_phase=rng.uniform(0, 2 * np.pi, (n, 3)),
                 light_angle=rng.uniform(-np.pi, np.pi, n), light_elevation=np.radians(u(15, 60)),
                 ambient=u(*AMBIENT), falloff=u(0.1, 0.35), exposure=u(0.8, 1.2), texture=u(0.03, 0.07),
                 texture_offset=rng.integers(0, TEXTURE_SIZE, (n, 2)),
                 detail_offset=rng.integers(0, DETAIL_SIZE, (n, 2)),
                 brow_dark=u(0.35, 0.75), brow_gap=u(0.48, 0.68), brow_slope=tilt + u(-0.15, 0.15), brow_thick=u(0.09, 0.15),
                 ridge=u(0.15, 0.35), crease_gap=u(0.1, 0.25), crease_dark=u(0.25, 0.5), bag=u(0.0, 0.03),
                 lashes=u(0.7, 0.9), lash_len=u(0.07, 0.11), mesh=mesh, background=np.full(n, 98 / 255))


def _texture(shape: tuple[int, int], sigma_x: float, sigma_y: float, seed: int) -> np.ndarray:
    """A fixed zero-mean, unit-sd periodic noise texture, blurred anisotropically.

    The 3 x 3 tiling costs ~35 ms per worker at import, and pays for itself: freeing these tiles (up
    to 9 MB) raises glibc's dynamic mmap threshold, so the renderer's 0.5-2 MB temporaries are reused
    on the heap instead of mmapped and faulted in afresh for every chunk (measured with a padded
    border instead: 177 vs 18 page faults per render, render ~30 % slower)."""
    white = np.tile(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), (3, 3))
    f = cv2.GaussianBlur(white, (0, 0), sigma_x, sigmaY=sigma_y)[shape[0]:2 * shape[0], shape[1]:2 * shape[1]]
    return (f - f.mean()) / f.std()


def _periodic_windows(texture: np.ndarray, h: int, w: int) -> np.ndarray:
    """View of every (h, w) window of a periodic texture: [oy, ox] is the window at that offset."""
    size_y, size_x = texture.shape
    wrapped = np.pad(texture, ((0, h), (0, w)), mode="wrap")
    return sliding_window_view(wrapped, (h, w))[:size_y, :size_x]


TEXTURE_SIZE = 256  # grid-cell textures (skin blotches and pores, brow hair, lashes)
SKIN_MAP = _periodic_windows(0.9 * _texture((256, 256), 7.0, 7.0, 1) + 0.25 * _texture((256, 256), 0.8, 0.8, 2)
                             + 0.3 * _texture((256, 256), 2.0, 0.7, 3), GRID_H, GRID_W)
HAIR_MAP = _periodic_windows(np.clip(0.5 + 0.45 * _texture((256, 256), 2.5, 0.45, 4), 0, 1), GRID_H, GRID_W)
LASH_TEXTURE = np.clip(0.5 + 0.5 * _texture((256, 256), 0.4, 3.0, 5), 0, 1)
LASH_WIN = _periodic_windows(LASH_TEXTURE, EYE_WIN_H, EYE_WIN_W)
DETAIL_SIZE = 512   # full-resolution pores: grey-level offsets, added or taken where the skin is
DETAIL_SD = 2.5    # grey levels
_pores = np.round(DETAIL_SD * _texture((DETAIL_SIZE, DETAIL_SIZE), 0.8, 0.8, 6))
# a pore's size and its sign apart: one multiply by the skin weight serves both signs (a pixel is
# raised or lowered, never both), and the masks pick which of the saturating add / subtract it gets
PORES = _periodic_windows(np.abs(_pores).astype(np.uint8), CANVAS_H, CANVAS_W)
PORES_RAISE = _periodic_windows(np.where(_pores > 0, 255, 0).astype(np.uint8), CANVAS_H, CANVAS_W)
PORES_LOWER = _periodic_windows(np.where(_pores < 0, 255, 0).astype(np.uint8), CANVAS_H, CANVAS_W)


def _col(a) -> np.ndarray:
    return np.asarray(a, np.float32)[:, None, None]


def _ramp(x):
    """Edge coverage at signed distance x (in grid cells): a linear anti-aliasing ramp."""
    return np.clip(x + 0.5, 0.0, 1.0)


def _grid(scale: int):
    """Cell-centre pixel coordinates of a grid of scale x scale pixel cells: X (1, 1, W), Y (1, H, 1)."""
    x = scale * np.arange(CANVAS_W // scale, dtype=np.float32) + (scale - 1) / 2
    y = scale * np.arange(CANVAS_H // scale, dtype=np.float32) + (scale - 1) / 2
    return x[None, None, :], y[None, :, None]


def _smoothstep(x):
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def _crease(b: Batch, s: geo.EyeShape, t):
    """Row (eye widths below the centre) of the fold above the upper lid, and how far along the face
    it runs (on past the outer corner, towards the side of the face)."""
    mid = -_col(s.tilt) * t / 2
    crease_y = mid - (_col(s.upper) + _col(b.crease_gap)) * (0.35 + 0.65 * np.exp(-t * t / 0.7))
    return crease_y, _smoothstep((t + 1.3) / 0.3) * _smoothstep((2.4 - t) / 1.2)


def _height(b: Batch, s: geo.EyeShape, U, V, t):
    """Height field of the eye region (eye widths) and the brow's centre line. Every term is smooth:
    a kink in a height shows as a shading edge."""
    bump = lambda x: np.exp(-x * x)  # noqa: E731
    eyeball = 0.3 * bump(U / 0.6) * bump((V - 0.03) / 0.36)
    brow_y = -_col(b.brow_gap) - _col(b.brow_slope) * U + 0.25 * U * U  # brow centre line (eye widths)
    ridge = _col(b.ridge) * bump((V - brow_y - 0.05) / 0.28) * bump((U / 1.3) ** 2)
    crease_y, reach = _crease(b, s, t)
    hollow = -0.15 * bump(U / 0.7) * bump((V - (crease_y + brow_y) / 2) / 0.18)
    fold = -0.025 * bump((V - crease_y) / 0.04) * reach
    lower_y = 0.2 + 0.1 * U * U
    under = -_col(b.bag) * bump((V - lower_y - 0.12) / 0.08) * bump(U / 0.6)
    return eyeball + ridge + hollow + fold + under, brow_y


def _shade(b: Batch, h: np.ndarray, step) -> np.ndarray:
    """Lambert shading of the height field by ambient + one directional light (1 on flat skin);
    `step` is one grid cell in eye widths."""
    hx = np.empty_like(h)
    hy = np.empty_like(h)
    hx[:, :, 1:-1] = (h[:, :, 2:] - h[:, :, :-2]) / (2 * step)
    hx[:, :, 0], hx[:, :, -1] = hx[:, :, 1], hx[:, :, -2]
    hy[:, 1:-1] = (h[:, 2:] - h[:, :-2]) / (2 * step)
    hy[:, 0], hy[:, -1] = hy[:, 1], hy[:, -2]
    el, az = b.light_elevation, b.light_angle
    lx, ly, lz = _col(np.sin(el) * np.cos(az)), _col(np.sin(el) * np.sin(az)), _col(np.cos(el))
    lambert = np.maximum(lz - hx * lx - hy * ly, 0) / (np.sqrt(1 + hx * hx + hy * hy) * lz)
    amb = _col(b.ambient)
    return amb + (1 - amb) * lambert


def render_frames(b: Batch) -> tuple[np.ndarray, np.ndarray]:
    """(N, GRID_H, GRID_W) uint8 frames on the cell grid, and uint8 skin weights for the pore detail."""
    n = len(b.shape)
    frames = np.empty((n, GRID_H, GRID_W), np.uint8)
    skin = np.empty((n, GRID_H, GRID_W), np.uint8)
    # the slowly varying fields for the whole batch at once: on their small grid, per-call overhead
    # rather than arithmetic sets the cost, so chunks of CHUNK would pay it N / CHUNK times
    coarse = _coarse_fields(b, b.shape.astype(np.float32))
    for lo in range(0, n, CHUNK):
        part = slice(lo, min(lo + CHUNK, n))
        frames[part], skin[part] = _render_chunk(_subset(b, part), coarse[:, part])
    return frames, skin


def _subset(b: Batch, part: slice) -> Batch:
    return Batch(**{k: (v[part] if isinstance(v, np.ndarray) else
                        geo.EyeShape(**{f: a[part] for f, a in vars(v).items()}))
                    for k, v in vars(b).items()})


def _coarse_fields(b: Batch, s: geo.EyeShape) -> np.ndarray:
    """(3, N, h, w) fields that vary slowly, on the COARSE x COARSE pixel grid (upsampled by
    _smooth_fields): the light on the skin (shaded height field, socket, falloff), the brow's band,
    and the signed distance (px) inside the region's mesh (linear in x, y, so upsampling keeps it)."""
    X, Y = _grid(COARSE)
    W = _col(s.width)
    U, V = (X - _col(s.cx)) / W, (Y - _col(s.cy)) / W
    t = 2 * U
    h, brow_y = _height(b, s, U, V, t)
    light = _shade(b, h, COARSE / W)
    light *= (1 - 0.15 * np.exp(-(U / 0.75) ** 2 - ((V + 0.05) / 0.4) ** 2)) \
        * (1 + _col(b.falloff) * (U * _col(np.cos(b.light_angle)) + V * _col(np.sin(b.light_angle))))
    band = np.clip(1 - ((V - brow_y) / _col(b.brow_thick)) ** 2, 0, 1) * np.clip(1.5 + 1.5 * U, 0, 1)
    inside = np.full_like(light, np.inf)
    for k in range(MESH_EDGES):
        angle = b.mesh[:, 0] + 2 * np.pi * k / MESH_EDGES
        along = (X - _col(s.cx + b.mesh[:, 1] * s.width)) * _col(np.cos(angle)) \
            + (Y - _col(s.cy + b.mesh[:, 2] * s.width)) * _col(np.sin(angle))
        inside = np.minimum(inside, _col(b.mesh[:, 3 + k] * s.width) - along)
    return np.stack([light, band, inside])


def _smooth_fields(coarse: np.ndarray) -> np.ndarray:
    """The coarse fields (3, N, h, w) upsampled to the cell grid, (3, N, GRID_H, GRID_W): planar
    (field first), as the renderer reads each field whole and strided channels are slower."""
    out = np.empty(coarse.shape[:2] + (GRID_H, GRID_W), np.float32)
    for k in range(len(coarse)):
        for i in range(coarse.shape[1]):
            cv2.resize(coarse[k, i], (GRID_W, GRID_H), dst=out[k, i], interpolation=cv2.INTER_LINEAR)
    return out


def _eye_window(s: geo.EyeShape) -> tuple[np.ndarray, np.ndarray]:
    """Per-render corner (cells) of the EYE_WIN_W x EYE_WIN_H window holding the opening and its lashes."""
    x0 = np.clip(np.round((s.cx - 0.64 * s.width) / SCALE), 0, GRID_W - EYE_WIN_W).astype(int)
    y0 = np.clip(np.round((s.cy - 0.62 * s.width) / SCALE), 0, GRID_H - EYE_WIN_H).astype(int)
    return x0, y0


def _windows(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Writeable view of every (h, w) window of each image of a (N, H, W) stack: [i, y0, x0] is
    image i's window at corner (y0, x0). Indexed with one corner per image, it gathers or scatters
    whole windows ~3-4x faster than fancy indexing cell by cell (one window per image, so the
    windows written never overlap)."""
    return sliding_window_view(a, (h, w), axis=(1, 2), writeable=True)


def _render_chunk(b: Batch, coarse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = b.shape.astype(np.float32)
    n = len(s)
    X, Y = _grid(SCALE)
    W = _col(s.width)
    U, V = (X - _col(s.cx)) / W, (Y - _col(s.cy)) / W
    t = 2 * U
    smooth = _smooth_fields(coarse)
    light, band = smooth[0], smooth[1]
    mesh = _ramp(smooth[2] / SCALE)
    oy, ox = b.texture_offset[:, 0], b.texture_offset[:, 1]
    # skin albedo: tone, blotches and pores; the brow's hair strands
    img = _col(b.skin) * (1 + _col(b.texture) * SKIN_MAP[oy, ox]) * light
    img *= 1 - _col(b.brow_dark) * band * (0.45 + 0.55 * HAIR_MAP[oy, ox])
    # the lid fold: a dark line where the skin folds in, its soft shadow on the lid below it
    crease_y, reach = _crease(b, s, t)
    q = (V - crease_y) / 0.028
    fold = np.clip(1 - q * q, 0, 1) + 0.3 * np.clip(q, 0, 1) * np.exp(-np.clip(q - 1, 0, None) / 2)
    img *= 1 - _col(b.crease_dark) * np.clip(fold, 0, 1) * reach
    # the eye, its lashes and lid margins: on a window around each eye only
    x0, y0 = _eye_window(b.shape)
    jj = x0[:, None, None] + np.arange(EYE_WIN_W)[None, None, :]
    ii = y0[:, None, None] + np.arange(EYE_WIN_H)[None, :, None]
    at = (np.arange(n), y0, x0)
    win = _windows(img, EYE_WIN_H, EYE_WIN_W)[at]
    win_light = _windows(light, EYE_WIN_H, EYE_WIN_W)[at]
    skin_w = np.ones_like(img)
    cover, upper = _draw_eye(b, s, win, win_light, SCALE * jj.astype(np.float32) + (SCALE - 1) / 2,
                             SCALE * ii.astype(np.float32) + (SCALE - 1) / 2)
    _windows(img, EYE_WIN_H, EYE_WIN_W)[at] = win
    _windows(skin_w, EYE_WIN_H, EYE_WIN_W)[at] = (1 - cover) * (1 - 0.6 * upper)
    # the region's mesh ends at straight edges: the background shows in the frame's corners
    bg = _col(b.background)
    img = bg + mesh * (_col(b.exposure) * img - bg)
    skin_w *= mesh
    return (np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8), (skin_w * 255 + 0.5).astype(np.uint8))


def _draw_eye(b: Batch, s: geo.EyeShape, img: np.ndarray, light: np.ndarray, X, Y) -> tuple[np.ndarray, np.ndarray]:
    """Sclera, caruncle, iris, lid margins and lashes over the skin `img` (N, h, w) at pixel
    coordinates X (N, 1, w), Y (N, h, 1), in place; returns the opening's coverage and the upper lashes."""
    t, inside, y_up, y_lo = geo.opening_coords(s, X, Y)
    W = _col(s.width)
    # px above the upper lid and below the lower one, each an (N, h, 1) x (N, 1, w) outer
    # difference (slow to broadcast), made once: a - b == -(b - a) exactly, so the terms keep their bits
    up, lo = y_up - Y, Y - y_lo
    # sclera darker towards the corners and under the upper lid, then iris, pupil, highlight
    lid_shadow = np.clip(1 + up / (0.12 * W), 0, 1)
    eye = _col(b.sclera) * (1 - 0.2 * t ** 4) * (1 - 0.45 * lid_shadow * lid_shadow)
    eye *= _col(0.75 + 0.25 * b.ambient) * (0.8 + 0.2 * light)
    # the caruncle where caruncle_2d puts it: a moist, darker (pink) mound in the inner corner
    r = 0.05 * W
    d = np.sqrt(((X - _col(s.cx - 0.5 * s.width) + r) / r) ** 2 + ((Y - _col(s.cy + s.tilt * s.width / 2)) / (0.8 * r)) ** 2)
    img -= 0.18 * np.clip((1 - d) * r / (2 * SCALE), 0, 1) * img
    _draw_iris(b, s, eye, X[:, 0, 0], Y[:, 0, 0])
    cover = _ramp(inside / SCALE)
    img += cover * (eye - img)
    # wet rim along the lower lid, a lit lid margin just below it
    d_lo = -lo / (0.012 * W)
    rim = np.clip(1 - t * t, 0, 1) * _col(b.exposure)
    img += 0.1 * rim * np.exp(-(d_lo - 0.6) ** 2)
    img *= 1 + 0.12 * rim * np.exp(-((d_lo + 2.5) / 1.5) ** 2)
    # lashes: strands from the upper lid margin, longer and denser towards the outer corner; fainter below
    x0, y0 = ((X[:, 0, 0] - (SCALE - 1) / 2) / SCALE).astype(int), ((Y[:, 0, 0] - (SCALE - 1) / 2) / SCALE).astype(int)
    oy, ox = (b.texture_offset[:, 0] + y0) % TEXTURE_SIZE, (b.texture_offset[:, 1] + x0) % TEXTURE_SIZE
    strands = LASH_WIN[oy, ox]
    above = up / (_col(b.lash_len) * W * (0.6 + 0.7 * np.clip(t + 1, 0, 2.5) / 2))
    reach = np.clip((t + 1.0) / 0.3, 0, 1) * np.clip((1.55 - t) / 0.5, 0, 1)
    upper = np.clip(1 - above, 0, 1) ** 1.3 * (above > -0.2) * reach * (0.1 + 0.9 * strands * strands)
    below = lo / (0.05 * W)
    lower = np.clip(1 - np.abs(below - 0.8), 0, 1) * np.clip((t + 0.8) / 0.3, 0, 1) \
        * np.clip((1.3 - t) / 0.4, 0, 1) * (0.4 + 0.6 * strands)
    root = np.exp(-(up / (0.012 * W) - 0.6) ** 2) * reach  # the lid margin the lashes grow from
    img *= 1 - _col(b.lashes) * np.clip(upper + 0.5 * root + 0.35 * lower, 0, 1)
    return cover, np.clip(upper + root, 0, 1)


def _draw_iris(b: Batch, s: geo.EyeShape, eye: np.ndarray, x_first: np.ndarray, y_first: np.ndarray) -> None:
    """Iris (striated, collarette, dark limbal ring), pupil and highlight, on a patch around each iris,
    in place; `eye` (N, h, w) has its first cell centred on pixel (x_first, y_first)."""
    n, h, w = eye.shape
    size = min(int(np.ceil(2 * float(s.iris.max()) / SCALE)) + 3, h, w)
    ix, iy = geo.iris_centre(s)
    j0 = np.clip(np.round((ix - x_first) / SCALE).astype(int) - size // 2, 0, w - size)
    i0 = np.clip(np.round((iy - y_first) / SCALE).astype(int) - size // 2, 0, h - size)
    steps = np.arange(size)
    jj, ii = j0[:, None, None] + steps[None, None, :], i0[:, None, None] + steps[None, :, None]
    X = _col(x_first) + SCALE * jj.astype(np.float32)
    Y = _col(y_first) + SCALE * ii.astype(np.float32)
    rho, theta = geo.iris_coords(s, X, Y)
    ph = b.iris_phase
    stripes = (0.14 * np.cos(13 * theta + _col(ph[:, 0])) + 0.08 * np.cos(29 * theta + _col(ph[:, 1]))
               + 0.05 * np.cos(47 * theta + _col(ph[:, 2]))) * (0.4 + rho)
    collarette = 0.15 * np.exp(-((rho - 0.5) / 0.08) ** 2)
    limbus = 1 - 0.6 * np.clip((rho - 0.75) / 0.25, 0, 1)
    iris = _col(IRIS_LEVEL[b.iris_texture]) * (1 + stripes + collarette) * limbus
    radius = _col(s.iris)
    at = (np.arange(n), i0, j0)
    patch = _windows(eye, size, size)[at]
    iris = iris * (0.55 + 0.45 * patch / _col(b.sclera))  # the lid's shadow and the light fall on it too
    patch += _ramp((1 - rho) * radius / SCALE) * (iris - patch)
    patch += _ramp((_col(s.pupil) - rho) * radius / SCALE) * (0.03 - patch)
    # the cornea's specular reflection of the key light: a small sharp spot (wet)
    off = 0.35 + 0.3 * np.sin(b.light_elevation)
    hx = _col(ix + off * s.iris * np.cos(b.light_angle))
    hy = _col(iy + off * s.iris * np.sin(b.light_angle))
    d2 = ((X - hx) ** 2 + (Y - hy) ** 2) / (s.iris[:, None, None] ** 2)
    patch += 0.8 * np.exp(-d2 / (2 * 0.05 ** 2))
    _windows(eye, size, size)[at] = patch


def compose(b: Batch, frames: np.ndarray, skin: np.ndarray, i: int, scratch: np.ndarray | None = None) -> np.ndarray:
    """Image i of the batch: (480, 640) uint8, the grid frame upscaled plus pores where the skin is.

    `scratch` (new_scratch()) holds the full-size temporaries, and the image returned is its first
    plane, overwritten by the next call; without it every call returns a new array. The two
    upscales take ~half the time, the JPEG encode that follows is slower than all of this."""
    up, weight, detail, signed = new_scratch() if scratch is None else scratch
    cv2.resize(frames[i], (CANVAS_W, CANVAS_H), dst=up, interpolation=cv2.INTER_LINEAR)
    cv2.resize(skin[i], (CANVAS_W, CANVAS_H), dst=weight, interpolation=cv2.INTER_LINEAR)
    oy, ox = b.detail_offset[i]
    cv2.multiply(weight, PORES[oy, ox], dst=detail, scale=1 / 255)  # round(weight * |pore| / 255)
    cv2.add(up, cv2.bitwise_and(detail, PORES_RAISE[oy, ox], dst=signed), dst=up)  # saturating uint8 ops
    return cv2.subtract(up, cv2.bitwise_and(detail, PORES_LOWER[oy, ox], dst=signed), dst=up)


def new_scratch() -> np.ndarray:
    """compose's full-size temporaries: the image, the skin weight, the pore detail and its signed part."""
    return np.empty((4, CANVAS_H, CANVAS_W), np.uint8)


def write_renders(out_dir: Path, rng: np.random.Generator, first: int, n: int, quality: int) -> int:
    """Render images first..first+n-1 as `{i}.jpg` + `{i}.json` (UnityEyes numbers from 1)."""
    b = sample_batch(rng, n)
    (frames, skin), anns = render_frames(b), eyes_annotations.annotations(b, CANVAS_H)
    params, scratch = [cv2.IMWRITE_JPEG_QUALITY, quality], new_scratch()
    for i in range(n):
        ok, jpg = cv2.imencode(".jpg", compose(b, frames, skin, i, scratch), params)
        write_file(out_dir / f"{first + i}.jpg", jpg)
        write_file(out_dir / f"{first + i}.json", json.dumps(anns[i]).encode())
    return n
