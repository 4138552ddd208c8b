"""MPIIGaze normalized data (`Data/Normalized/pXX/dayYY.mat`) -> 55x35 grey eye crops with gaze.

Facts (docs/formats.md, hysts/pytorch_mpiigaze): loaded with
`loadmat(f, struct_as_record=False, squeeze_me=True)`, `m['data'].left/.right` hold `.image`
(N, 36, 60) uint8, `.gaze` (N, 3) unit vectors in the normalized camera frame (y down) and
`.pose` (N, 3) Rodrigues head rotations; `m['filenames']` names the frames. Gaze: pitch =
asin(-g.y), yaw = atan2(-g.x, -g.z); head pose from the rotation's z column (pitch = asin(z.y),
yaw = atan2(z.x, z.z)). Right eyes are mirrored with yaw negated so every crop is a left eye.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import scipy.io
from scipy.spatial.transform import Rotation

from pipeline.crops import eyes as crops
from pipeline.formats import (eye_sample, gaze_labels, rel_source, reject, sample_key, vector_length,
                              vector_to_pitchyaw)

IMAGE_HW = (36, 60)
SIDES = ("left", "right")


class BadMat(ValueError):
    pass


def head_pose_deg(rotvecs: np.ndarray) -> np.ndarray:
    """(N, 3) Rodrigues vectors -> (N, 3) [pitch, yaw, roll] in degrees (hysts' pitch/yaw)."""
    rot = Rotation.from_rotvec(rotvecs).as_matrix()
    z, y = rot[:, :, 2], rot[:, :, 1]
    pitch = np.arcsin(np.clip(z[:, 1], -1, 1))
    yaw = np.arctan2(z[:, 0], z[:, 2])
    roll = np.arctan2(y[:, 0], y[:, 1])  # tilt of the head's y axis in the image plane
    return np.degrees(np.stack([pitch, yaw, roll], 1))


def _eye_arrays(data, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images, gaze, pose) of one side, un-squeezed back to (N, ...) and shape-checked."""
    eye = getattr(data, side, None)
    if eye is None:
        raise BadMat(f"missing field data.{side}")
    arrays = []
    for name, tail in (("image", IMAGE_HW), ("gaze", (3,)), ("pose", (3,))):
        a = getattr(eye, name, None)
        if not isinstance(a, np.ndarray):
            raise BadMat(f"missing field data.{side}.{name}")
        if a.shape == tail:  # squeeze_me drops N when a day has one frame
            a = a[None]
        if a.ndim != len(tail) + 1 or a.shape[1:] != tail:
            raise BadMat(f"data.{side}.{name} has shape {a.shape}, expected (N, {', '.join(map(str, tail))})")
        arrays.append(a)
    images, gaze, pose = arrays
    if not (len(images) == len(gaze) == len(pose)):
        raise BadMat(f"data.{side}: image/gaze/pose lengths differ ({len(images)}, {len(gaze)}, {len(pose)})")
    if images.dtype != np.uint8:
        raise BadMat(f"data.{side}.image is {images.dtype}, expected uint8")
    return images, gaze.astype(float), pose.astype(float)


def load_mat(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    try:
        m = scipy.io.loadmat(str(path), struct_as_record=False, squeeze_me=True)
    except Exception as e:  # scipy raises ValueError/TypeError/OSError/... on corrupt files
        raise BadMat(f"not a readable .mat file ({type(e).__name__}: {e})") from None
    if "data" not in m:
        raise BadMat(f"missing variable 'data' (found {sorted(k for k in m if not k.startswith('__'))})")
    return {side: _eye_arrays(m["data"], side) for side in SIDES}


def eye_records(images, gaze, pose, side: str, stem: str, source: str, out_wh=crops.OUT_SIZE) -> list:
    """Samples (or Rejects for rows with bad labels) of one side of one day file."""
    flip = side == "right"
    pitch, yaw = vector_to_pitchyaw(gaze)
    head = head_pose_deg(np.nan_to_num(pose))
    sign = -1.0 if flip else 1.0
    meta = crops.whole_image_meta(IMAGE_HW[::-1], out_wh, flip)
    out = []
    for i in range(len(images)):
        src = f"{source}#{side}/{i}"
        if not (np.isfinite(gaze[i]).all() and vector_length(gaze[i]) > 1e-6 and np.isfinite(pose[i]).all()):
            out.append(reject(src, f"non-finite or zero gaze/pose: gaze {gaze[i].tolist()}, pose {pose[i].tolist()}"))
            continue
        labels = {"gaze": gaze_labels(pitch[i], sign * yaw[i]),
                  "head_pose_deg": [round(float(head[i, 0]), 4), round(float(sign * head[i, 1]), 4),
                                    round(float(sign * head[i, 2]), 4)]}
        key = sample_key("mp", f"{stem}-{side[0]}{i:04d}")
        out.append(eye_sample(key, crops.apply_crop(images[i], meta), src, meta, labels))
    return out


def participant_of(path: str | Path) -> str:
    return Path(path).parent.name


def read_mat(path: str, root: str, out_wh=crops.OUT_SIZE) -> list:
    """One day file -> Samples of both eyes (right eyes mirrored), or a Reject for the file."""
    p = Path(path)
    source = rel_source(p, root)
    if p.suffix != ".mat":
        return [reject(source, "not an MPIIGaze day file (expected Data/Normalized/pXX/dayYY.mat)")]
    try:
        eyes = load_mat(p)
    except BadMat as e:
        return [reject(source, str(e))]
    stem = f"{participant_of(p)}-{p.stem}"
    return [r for side in SIDES for r in eye_records(*eyes[side], side, stem, source, out_wh)]


def normalized_dir(root: str | Path) -> Path:
    """`root` may be the MPIIGaze root, its Data/, or Data/Normalized itself."""
    root = Path(root)
    for cand in (root / "Data" / "Normalized", root / "Normalized", root):
        if cand.is_dir() and any(cand.glob("p*")):
            return cand
    return root


def list_day_files(root: str | Path) -> list[str]:
    """Every file under the participants' folders, sorted (strays included, to be rejected)."""
    return sorted(str(p) for p in normalized_dir(root).rglob("*") if p.is_file())


def write_mat(path: str | Path, left: dict, right: dict, filenames: list[str]) -> None:
    """Write one day file in MPIIGaze's layout (loads with and without squeeze_me).

    scipy stamps the creation time into the 116-byte text header; a fixed header keeps the file
    byte-identical for identical content, so DVC sees no change when nothing changed.
    """
    names = np.empty((len(filenames), 1), dtype=object)
    names[:, 0] = filenames
    buf = io.BytesIO()
    scipy.io.savemat(buf, {"data": {"left": left, "right": right}, "filenames": names},
                     do_compression=False, oned_as="column")
    data = bytearray(buf.getvalue())
    data[:116] = b"MATLAB 5.0 MAT-file, written by simgan-pipeline".ljust(116)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(bytes(data))
