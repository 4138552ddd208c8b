"""NYU hand pose dataset files (Tompson et al. 2014): depth PNGs, joint_data.mat, intrinsics.

Facts (docs/formats.md, checked on a real test frame in tests/data/nyu/):
- `depth_K_NNNNNNN.png` (K = kinect 1..3, N from 0000001): 640x480 8-bit RGB, depth in mm =
  (G << 8) | B; R is 0. OpenCV loads BGR, so depth = im[..., 1] << 8 | im[..., 0].
  `synthdepth_K_NNNNNNN.png`: the same encoding, renders of NYU's fitted hand model.
- `joint_data.mat`: `joint_uvd`, `joint_xyz` indexed [kinect - 1][frame, 36, 3] (uvd = u px,
  v px, depth mm; xyz mm), `joint_names` (36 names). Frame N of the PNGs is row N - 1.
- 14 evaluation joints `EVAL_JOINTS`; intrinsics fx=588.03, fy=587.07, cx=320, cy=240 with
  x = (u - cx) d / fx, y = (cy - v) d / fy (camera y up).
"""
from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT = 640, 480
INTRINSICS = {"fx": 588.03, "fy": 587.07, "cx": 320.0, "cy": 240.0}
N_JOINTS = 36
EVAL_JOINTS = (0, 3, 6, 9, 12, 15, 18, 21, 24, 25, 27, 30, 31, 32)
JOINT_NAMES = tuple(f"{f}_KNU{k}_{ab}" for f in ("F1", "F2", "F3", "F4", "TH")
                    for k in (3, 2, 1) for ab in ("A", "B")) + tuple(f"PALM_{i}" for i in range(1, 7))
FRAME_RE = re.compile(r"^(depth|synthdepth)_(\d)_(\d{7})\.png$")


class NyuFormatError(ValueError):
    """A file that is not in NYU's layout; the message says what is wrong (no path)."""


@dataclass(frozen=True)
class JointData:
    uvd: np.ndarray  # float64 (N, 36, 3): u px, v px, depth mm
    xyz: np.ndarray  # float64 (N, 36, 3) mm, camera y up
    names: tuple[str, ...]


# ---------------------------------------------------------------- geometry
def uvd_to_xyz(uvd, intrinsics: Mapping = INTRINSICS) -> np.ndarray:
    """(..., 3) u px, v px, d mm -> camera x, y, z mm (y up). `intrinsics`: any mapping with fx fy cx cy."""
    uvd = np.asarray(uvd, np.float64)
    u, v, d = uvd[..., 0], uvd[..., 1], uvd[..., 2]
    return np.stack([(u - intrinsics["cx"]) * d / intrinsics["fx"],
                     (intrinsics["cy"] - v) * d / intrinsics["fy"], d], axis=-1)


def xyz_to_uvd(xyz, intrinsics: Mapping = INTRINSICS) -> np.ndarray:
    xyz = np.asarray(xyz, np.float64)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    return np.stack([intrinsics["cx"] + x * intrinsics["fx"] / z,
                     intrinsics["cy"] - y * intrinsics["fy"] / z, z], axis=-1)


# ---------------------------------------------------------------- depth PNGs
def decode_depth(png: bytes) -> np.ndarray:
    """NYU depth PNG bytes -> uint16 (480, 640) mm; NyuFormatError for any other size or mode."""
    from pipeline.formats import truncated_png

    if truncated_png(png):
        raise NyuFormatError("truncated PNG (no IEND chunk: the file was cut short)")
    im = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED) if png else None
    if im is None:
        raise NyuFormatError("not a decodable PNG")
    if im.dtype != np.uint8:
        kind = "grey" if im.ndim == 2 else f"{im.shape[2]}-channel"
        raise NyuFormatError(f"{im.dtype.itemsize * 8}-bit {kind} PNG, expected NYU's 8-bit RGB")
    if im.ndim != 3 or im.shape[2] != 3:
        kind = "grey" if im.ndim == 2 else ("RGBA" if im.shape[2] == 4 else f"{im.shape[2]}-channel")
        raise NyuFormatError(f"8-bit {kind} PNG, expected NYU's 8-bit RGB")
    if im.shape[:2] != (HEIGHT, WIDTH):
        raise NyuFormatError(f"{im.shape[1]}x{im.shape[0]} PNG, expected {WIDTH}x{HEIGHT}")
    return (im[..., 1].astype(np.uint16) << 8) | im[..., 0]


def read_depth(path: str | Path) -> np.ndarray:
    return decode_depth(Path(path).read_bytes())


def encode_depth(depth: np.ndarray, compression: int = 1) -> bytes:
    """uint16 (H, W) mm -> NYU's RGB PNG. zlib level 1, no PNG filter: the fastest encoding
    here (~3 ms for a clean 640x480 render, ~4.5 ms for a noisy frame) at 2-6 % of the raw size."""
    depth = np.asarray(depth, np.uint16)
    bgr = cv2.merge([depth.astype(np.uint8), (depth >> 8).astype(np.uint8), np.zeros(depth.shape, np.uint8)])
    ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, compression,
                                         cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE])
    if not ok:
        raise NyuFormatError(f"PNG encoding failed for a depth map of shape {depth.shape}")
    return buf.tobytes()


def frame_name(index: int, kinect: int = 1, prefix: str = "depth") -> str:
    """File name of 1-based frame `index`: depth_1_0000001.png."""
    return f"{prefix}_{kinect}_{index:07d}.png"


def list_frames(split_dir: str | Path, kinect: int = 1, prefix: str = "depth") -> dict[int, Path]:
    """1-based frame index -> PNG path of one kinect's frames in a split folder."""
    out = {}
    for p in Path(split_dir).glob(f"{prefix}_{kinect}_*.png"):
        m = FRAME_RE.match(p.name)
        if m and m.group(1) == prefix:
            out[int(m.group(3))] = p
    return dict(sorted(out.items()))


def depth_prefix(split_dir: str | Path, kinect: int = 1) -> str:
    """"synthdepth" where a folder has NYU's synthetic renders, else "depth"."""
    return "synthdepth" if any(Path(split_dir).glob(f"synthdepth_{kinect}_*.png")) else "depth"


# ---------------------------------------------------------------- joint_data.mat
def read_joint_data(path: str | Path, kinect: int = 1) -> JointData:
    """One kinect's labels from joint_data.mat; NyuFormatError when keys or shapes are wrong."""
    import scipy.io  # here, not at the top: worker processes decode PNGs only and start faster

    try:
        m = scipy.io.loadmat(str(path))
    except Exception as e:  # scipy raises MatReadError (not a ValueError), ValueError, OSError, ... on bad files
        raise NyuFormatError(f"not a readable .mat file ({type(e).__name__}: {e})") from None
    arrays = []
    for key in ("joint_uvd", "joint_xyz"):
        a = m.get(key)
        if not isinstance(a, np.ndarray) or a.ndim != 4 or a.shape[2:] != (N_JOINTS, 3):
            shape = getattr(a, "shape", None)
            raise NyuFormatError(f"{key} has shape {shape}, expected (kinects, frames, {N_JOINTS}, 3)")
        if not 1 <= kinect <= a.shape[0]:
            raise NyuFormatError(f"{key} has {a.shape[0]} kinect(s), kinect {kinect} asked for")
        arrays.append(a[kinect - 1].astype(np.float64))
    if arrays[0].shape != arrays[1].shape:
        raise NyuFormatError(f"joint_uvd {arrays[0].shape} and joint_xyz {arrays[1].shape} differ")
    names = m.get("joint_names")
    names = tuple(str(np.asarray(n).squeeze()) for n in np.asarray(names).ravel()) if names is not None else JOINT_NAMES
    return JointData(arrays[0], arrays[1], names)


def write_joint_data(path: str | Path, uvd: np.ndarray, xyz: np.ndarray) -> None:
    """joint_data.mat for one kinect: (N, 36, 3) arrays stored as [1][N, 36, 3], names as a cell row.

    scipy stamps the creation time into the 116-byte text header; a fixed header keeps the file
    byte-identical for identical content, so DVC sees no change when nothing changed.
    """
    import scipy.io

    names = np.empty((1, N_JOINTS), dtype=object)
    names[0, :] = JOINT_NAMES
    buf = io.BytesIO()
    scipy.io.savemat(buf, {"joint_uvd": np.asarray(uvd, np.float64)[None],
                           "joint_xyz": np.asarray(xyz, np.float64)[None], "joint_names": names},
                     do_compression=True)
    data = bytearray(buf.getvalue())
    data[:116] = b"MATLAB 5.0 MAT-file, written by simgan-pipeline".ljust(116)
    Path(path).write_bytes(bytes(data))
