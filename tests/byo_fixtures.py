"""Bring-your-own-data fixtures: small datasets in the real formats, written the way the datasets'
own tools write them (scipy.io.savemat for .mat, h5py for the Kaggle files, OpenCV for images,
UnityEyes' JSON schema as in tests/data/unityeyes/1.json). No pipeline writer or simulator is used,
so a reader that agrees only with our own writers fails here.

    unityeyes/             N.jpg + N.json                                (synthetic eyes, labelled)
    mpiigaze/Data/Normalized/pXX/dayYY.mat                               (real eyes, labelled, by person)
    kaggle/gaze.h5, kaggle/real_gaze.h5                                  (synthetic labelled / real unlabelled)
    crops/<person>/<n>.png                                               (real eyes, unlabelled, grouped)
    nyu_synth/synthdepth_1_*.png + joint_data.mat                        (synthetic hands)
    nyu/train/depth_1_*.png [+ joint_data.mat], nyu/test/ (+ joint_data.mat)  (real hands)
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import h5py
import numpy as np
import scipy.io

DATA = Path(__file__).resolve().parent / "data"
FX, FY, CX, CY = 588.03, 587.07, 320.0, 240.0  # NYU's intrinsics (docs/formats.md)


def tree_digest(root: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under root (or of the one file)."""
    root = Path(root)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return {(p.relative_to(root).as_posix() if p != root else p.name): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files}


def _texture(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = 120 + 50 * np.sin(x / (9.0 + seed % 5)) * np.cos(y / 13.0)
    return np.clip(base + rng.normal(0, 8, (h, w)), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- eyes
def write_unityeyes(folder: Path, n: int) -> Path:
    """n renders: a textured 640x480 colour JPEG and the real annotation with its gaze turned."""
    folder.mkdir(parents=True, exist_ok=True)
    ann = json.loads((DATA / "unityeyes" / "1.json").read_text())
    for i in range(1, n + 1):
        a = np.radians([(i * 7) % 30 - 15, (i * 11) % 40 - 20])  # pitch, yaw
        look = (-np.cos(a[0]) * np.sin(a[1]), np.sin(a[0]), -np.cos(a[0]) * np.cos(a[1]))  # y up
        ann["eye_details"]["look_vec"] = "({:.4f}, {:.4f}, {:.4f}, 0.0000)".format(*look)
        ann["head_pose"] = f"({(i * 3) % 20 - 10 + 360 * (i % 2):.4f}, {180 + (i * 5) % 30 - 15:.4f}, 0.0000)"
        grey = _texture(480, 640, i)
        cv2.imwrite(str(folder / f"{i}.jpg"), cv2.merge([grey, grey // 2 + 40, grey]), [cv2.IMWRITE_JPEG_QUALITY, 90])
        (folder / f"{i}.json").write_text(json.dumps(ann, indent=1))
    return folder


def _mpii_side(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    pitch, yaw = rng.uniform(-0.3, 0.3, n), rng.uniform(-0.4, 0.4, n)
    gaze = np.stack([-np.cos(pitch) * np.sin(yaw), -np.sin(pitch), -np.cos(pitch) * np.cos(yaw)], 1)
    return {"image": np.stack([_texture(36, 60, seed + k) for k in range(n)]), "gaze": gaze,
            "pose": rng.normal(0, 0.15, (n, 3))}


def write_mpii_day_file(path: Path, n: int, seed: int, sides=("left", "right")) -> Path:
    """One day file as MPIIGaze's MATLAB code saved it: a struct `data` with left/right eyes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = np.empty((n, 1), dtype=object)
    names[:, 0] = [f"{path.stem}/{k + 1:04d}.jpg" for k in range(n)]
    data = {side: _mpii_side(n, seed + 100 * j) for j, side in enumerate(sides)}
    scipy.io.savemat(str(path), {"data": data, "filenames": names})
    return path


def write_mpiigaze(root: Path, participants=("p00", "p01", "p02", "p03"), days=2, n=3) -> Path:
    for k, p in enumerate(participants):
        for d in range(1, days + 1):
            write_mpii_day_file(root / "Data" / "Normalized" / p / f"day{d:02d}.mat", n, seed=10 * k + d)
    return root


def write_kaggle_pair(folder: Path, n: int = 14, n_real: int = 16) -> tuple[Path, Path]:
    """gaze.h5 (image group + look_vec; row i belongs to img<i+1>, natural order) and real_gaze.h5.

    Each synthetic image carries its own gaze in its pixels: a dark column at x = 5 + 3 * (i % 15),
    so a test can check every image met its own look_vec row."""
    folder.mkdir(parents=True, exist_ok=True)
    look = np.zeros((n, 3))
    with h5py.File(folder / "gaze.h5", "w") as f:
        g = f.create_group("image")
        for i in range(n):
            img = _texture(35, 55, i)
            img[:, 5 + 3 * (i % 15)] = 0
            g.create_dataset(f"img{i + 1}", data=img)
            yaw = np.radians(-20 + 3 * (i % 15))
            look[i] = (-np.sin(yaw), 0.0, -np.cos(yaw))  # y up, UnityEyes' axes
        f.create_dataset("look_vec", data=look)
    with h5py.File(folder / "real_gaze.h5", "w") as f:
        g = f.create_group("image")
        for i in range(n_real):
            g.create_dataset(f"img{i + 1}", data=_texture(35, 55, 50 + i))
    return folder / "gaze.h5", folder / "real_gaze.h5"


def write_crops(folder: Path, groups=("alice", "bob", "carol", "dave", "erin"), per_group=4) -> Path:
    """A team's own camera crops, one sub-folder per person, assorted sizes and colour."""
    for k, g in enumerate(groups):
        (folder / g).mkdir(parents=True, exist_ok=True)
        for i in range(per_group):
            grey = _texture(48 + 4 * i, 80 + 6 * k, 200 + 10 * k + i)
            img = cv2.merge([grey, grey, grey]) if i % 2 else grey
            cv2.imwrite(str(folder / g / f"frame{i:03d}.png"), img)
    return folder


# ---------------------------------------------------------------- hands (NYU)
def _hand_frame(i: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A 480x640 depth frame (mm) with a hand-sized blob in front of a far wall, and 36 joints (uvd)."""
    rng = np.random.default_rng(seed * 1000 + i)
    u0, v0, d0 = 300 + 8 * (i % 5), 230 + 6 * (i % 4), 650.0 + 15 * (i % 7)
    depth = np.full((480, 640), 2500, np.uint16)  # a wall beyond the hand range
    yy, xx = np.mgrid[0:480, 0:640]
    blob = ((xx - u0) / 38.0) ** 2 + ((yy - v0) / 52.0) ** 2 <= 1
    depth[blob] = (d0 - 20 * (1 - ((xx - u0) / 38.0) ** 2 - ((yy - v0) / 52.0) ** 2)[blob]).astype(np.uint16)
    uvd = np.stack([u0 + rng.uniform(-25, 25, 36), v0 + rng.uniform(-40, 40, 36), d0 + rng.uniform(0, 20, 36)], 1)
    return depth, uvd


def _uvd_to_xyz(uvd: np.ndarray) -> np.ndarray:
    u, v, d = uvd[..., 0], uvd[..., 1], uvd[..., 2]
    return np.stack([(u - CX) * d / FX, (CY - v) * d / FY, d], -1)


def write_nyu_split(folder: Path, n: int, seed: int, labelled=True, prefix="depth") -> Path:
    """NYU frames `<prefix>_1_NNNNNNN.png` (depth = G << 8 | B, written by OpenCV as BGR) and, when
    labelled, joint_data.mat with joint_uvd / joint_xyz as [kinect][frame, 36, 3] and joint_names."""
    folder.mkdir(parents=True, exist_ok=True)
    uvd = np.zeros((n, 36, 3))
    for i in range(n):
        depth, uvd[i] = _hand_frame(i, seed)
        bgr = cv2.merge([(depth & 0xFF).astype(np.uint8), (depth >> 8).astype(np.uint8), np.zeros_like(depth, np.uint8)])
        cv2.imwrite(str(folder / f"{prefix}_1_{i + 1:07d}.png"), bgr)
    if labelled:
        names = np.empty((1, 36), dtype=object)
        names[0, :] = [f"J{k}" for k in range(36)]
        scipy.io.savemat(str(folder / "joint_data.mat"),
                         {"joint_uvd": uvd[None], "joint_xyz": _uvd_to_xyz(uvd)[None], "joint_names": names})
    return folder


def write_nyu(root: Path, n_train: int = 10, n_test: int = 6, train_labels=True, test=True) -> Path:
    write_nyu_split(root / "train", n_train, seed=1, labelled=train_labels)
    if test:
        write_nyu_split(root / "test", n_test, seed=2)
    return root


def write_all(root: Path) -> dict[str, Path]:
    """Every format, under root (outside the repository)."""
    gaze_h5, real_h5 = write_kaggle_pair(root / "kaggle")
    return {"unityeyes": write_unityeyes(root / "unityeyes", 12),
            "mpiigaze": write_mpiigaze(root / "mpiigaze"),
            "gaze_h5": gaze_h5, "real_gaze_h5": real_h5,
            "crops": write_crops(root / "crops"),
            "nyu_synth": write_nyu_split(root / "nyu_synth", 12, seed=3, prefix="synthdepth"),
            "nyu": write_nyu(root / "nyu")}
