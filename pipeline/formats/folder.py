"""A plain folder of unlabeled real eye crops (png/jpg, any size, grey or colour) -> 55x35 grey.

This is the form in which a team brings its own camera data. Each image is cut to the largest
centred box with the crop's aspect ratio and resized; nothing else is assumed.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.crops import eyes as crops
from pipeline.formats import eye_sample, rel_source, reject, sample_key, truncated_png

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
MIN_SIDE = 8  # smaller than this is not an eye image


def list_images(root: str | Path) -> list[str]:
    """Every file under `root`, sorted (non-images included, to be rejected)."""
    return sorted(str(p) for p in Path(root).rglob("*") if p.is_file())


def decode_any(data: bytes) -> np.ndarray | None:
    """png/jpg bytes (8/16-bit, grey/colour/alpha) -> grey uint8, None when not decodable."""
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if img is None:
        return None
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    return img if img.dtype == np.uint8 else None


def read_image(path: str, root: str, out_wh=crops.OUT_SIZE) -> list:
    """One image file -> [Sample] (no labels), or [Reject] naming what is wrong."""
    p = Path(path)
    source = rel_source(p, root)
    if p.suffix.lower() not in IMAGE_SUFFIXES:
        return [reject(source, f"not an image file (suffix {p.suffix or 'none'!r}; expected .png/.jpg)")]
    try:
        data = p.read_bytes()
    except OSError as e:
        return [reject(source, f"unreadable: {e}")]
    if p.suffix.lower() != ".png" and data[:2] == b"\xff\xd8" and not data.rstrip(b"\0\r\n ").endswith(b"\xff\xd9"):
        return [reject(source, "truncated JPEG (no end-of-image marker)")]
    if truncated_png(data):
        return [reject(source, "truncated PNG (no IEND chunk: the file was cut short)")]
    grey = decode_any(data)
    if grey is None:
        return [reject(source, "corrupt or unsupported image (does not decode)")]
    h, w = grey.shape
    if min(h, w) < MIN_SIDE:
        return [reject(source, f"image {w}x{h} is too small for an eye crop (min side {MIN_SIDE})")]
    meta = crops.centre_aspect_meta((w, h), out_wh)
    key = sample_key("fo", source.rsplit(".", 1)[0])  # unique per relative path
    return [eye_sample(key, crops.apply_crop(grey, meta), source, meta, None)]


def empty_folder_reject(root: str | Path) -> list:
    """An empty input folder is a rejected record, so the reject-fraction check names it."""
    return [reject(str(root), "empty folder: no input files")]
