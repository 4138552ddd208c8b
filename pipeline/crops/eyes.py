"""The eye crop transform, in one place: source image -> (35, 55) grey crop, and back to model space.

A crop is a box of `box = [w, h]` source pixels around `center`, resized to `out = [w, h]`
(INTER_AREA), optionally mirrored left-right (`flip`, MPIIGaze right eyes). The box corner
`center - box / 2` is kept on whole pixels so the same meta reproduces the same crop, and
points map with the pixel-centre convention of cv2.resize:
    crop_x = (x - x0 + 0.5) * out_w / box_w - 0.5        (then out_w - 1 - crop_x when flipped)
The crop meta is the shard contract's `{"center", "box", "out", "flip", "src_size"}`.
"""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.images import to_uint8

UNITYEYES_BOX = (140, 84)  # SimGAN reimplementations' crop around the eye-margin centre, for a ~104 px eye
# The UnityEyes box scales with the eye (corner-to-corner width), as GazeML's reader scales its
# crop (1.5x): renders come at any camera distance (UnityEyes' own ~100-130 px eyes, derivatives'
# ~250 px ones), and the eye must fill the crop alike. 1.35x keeps the 140x84 box for the ~104 px
# eyes the embedded renderer drew before, so the eye spans ~0.74 of the crop's width.
UNITYEYES_BOX_PER_EYE_WIDTH = 1.35
OUT_SIZE = (55, 35)        # (w, h) of every eye crop in the shards


def crop_meta(center_xy, box_wh, out_wh, src_wh, flip: bool = False) -> dict:
    """Crop meta with the box corner snapped to whole pixels."""
    bw, bh = int(box_wh[0]), int(box_wh[1])
    x0 = int(np.floor(center_xy[0] - bw / 2 + 0.5))
    y0 = int(np.floor(center_xy[1] - bh / 2 + 0.5))
    return {"center": [x0 + bw / 2, y0 + bh / 2], "box": [bw, bh], "out": [int(out_wh[0]), int(out_wh[1])],
            "flip": bool(flip), "src_size": [int(src_wh[0]), int(src_wh[1])]}


def unityeyes_box(eye_width: float) -> tuple[int, int]:
    """(w, h) source pixels of the UnityEyes crop for an eye `eye_width` px from corner to corner
    (the 140:84 aspect of the SimGAN box)."""
    bw = max(8, int(round(UNITYEYES_BOX_PER_EYE_WIDTH * float(eye_width))))
    return bw, max(5, int(round(bw * UNITYEYES_BOX[1] / UNITYEYES_BOX[0])))


def whole_image_meta(src_wh, out_wh=OUT_SIZE, flip: bool = False) -> dict:
    """The whole image as the box (MPIIGaze's 60x36 normalized eyes, Kaggle's 55x35 crops)."""
    return crop_meta((src_wh[0] / 2, src_wh[1] / 2), src_wh, out_wh, src_wh, flip)


def centre_aspect_meta(src_wh, out_wh=OUT_SIZE) -> dict:
    """The largest centred box with the output's aspect ratio (a plain folder of eye crops)."""
    w, h = src_wh
    aspect = out_wh[0] / out_wh[1]
    bw, bh = (w, max(1, round(w / aspect))) if w / h < aspect else (max(1, round(h * aspect)), h)
    return crop_meta((w / 2, h / 2), (bw, bh), out_wh, src_wh)


def _corner(meta: dict) -> tuple[int, int]:
    (cx, cy), (bw, bh) = meta["center"], meta["box"]
    return int(round(cx - bw / 2)), int(round(cy - bh / 2))


def apply_crop(grey: np.ndarray, meta: dict) -> np.ndarray:
    """Cut `meta`'s box out of a grey uint8 image (edge-replicated outside it), resize, flip."""
    x0, y0 = _corner(meta)
    bw, bh = meta["box"]
    h, w = grey.shape
    pad = max(0, -x0, -y0, x0 + bw - w, y0 + bh - h)
    if pad:  # box reaches past the border: replicate edges rather than shift the crop
        grey = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0 = x0 + pad, y0 + pad
    box = grey[y0:y0 + bh, x0:x0 + bw]
    out = tuple(meta["out"])
    crop = box if (bw, bh) == out else cv2.resize(box, out, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop[:, ::-1]) if meta["flip"] else crop


def points_to_crop(points_xy: np.ndarray, meta: dict) -> np.ndarray:
    """(N, 2) source-image points -> crop pixels."""
    x0, y0 = _corner(meta)
    scale = np.array(meta["out"], float) / np.array(meta["box"], float)
    p = (np.asarray(points_xy, float) - (x0, y0) + 0.5) * scale - 0.5
    if meta["flip"]:
        p[:, 0] = meta["out"][0] - 1 - p[:, 0]
    return p


def points_from_crop(points_xy: np.ndarray, meta: dict) -> np.ndarray:
    """Inverse of `points_to_crop`."""
    p = np.array(points_xy, float)
    if meta["flip"]:
        p[:, 0] = meta["out"][0] - 1 - p[:, 0]
    x0, y0 = _corner(meta)
    scale = np.array(meta["box"], float) / np.array(meta["out"], float)
    return (p + 0.5) * scale - 0.5 + (x0, y0)


def normalize(image: np.ndarray, meta: dict | None = None) -> np.ndarray:
    """uint8 grey crop -> float32 in [-1, 1]."""
    return image.astype(np.float32) / 127.5 - 1.0


def denormalize(x: np.ndarray, meta: dict | None = None) -> np.ndarray:
    """float in [-1, 1] -> uint8 grey crop (clipped, rounded)."""
    return to_uint8(x)
