"""Helpers shared by the eye tests: small files in the public layouts, an image-based iris finder."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from pipeline.formats import pitchyaw_to_vector
from pipeline.formats.mpiigaze import write_mat

ROOT = Path(__file__).resolve().parent.parent
REAL_UNITYEYES_JSON = ROOT / "tests" / "data" / "unityeyes" / "1.json"  # source: tests/data/README.md


def real_unityeyes_json() -> dict:
    return json.loads(REAL_UNITYEYES_JSON.read_text())


def write_unityeyes(folder: Path, stem: str, ann: dict, size=(640, 480), colour=True) -> Path:
    """A render in UnityEyes' layout: a textured colour jpg and its json."""
    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    grey = (120 + 60 * np.sin(x / 17.0) * np.cos(y / 23.0)).astype(np.uint8)
    img = cv2.merge([grey, grey // 2 + 40, grey]) if colour else grey
    jpg = folder / f"{stem}.jpg"
    cv2.imwrite(str(jpg), img)
    (folder / f"{stem}.json").write_text(json.dumps(ann))
    return jpg


def mpii_eye(n: int, pitch, yaw, seed: int = 0) -> dict:
    """One side of a day file: n images (a bright left half marks the orientation), gaze, pose."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (n, 36, 60), dtype=np.uint8)
    images[:, :, :20] += 180  # bright band on the left: where it ends up shows any mirroring
    return {"image": images, "gaze": pitchyaw_to_vector(np.full(n, pitch), np.full(n, yaw)),
            "pose": rng.normal(0, 0.2, (n, 3))}


def write_mpii_day(root: Path, participant: str, day: int, n: int, pitch=0.1, yaw=0.2) -> Path:
    path = root / "Data" / "Normalized" / participant / f"day{day:02d}.mat"
    write_mat(path, mpii_eye(n, pitch, yaw, 1), mpii_eye(n, pitch, -yaw, 2),
              [f"day{day:02d}/{i + 1:04d}.jpg" for i in range(n)])
    return path


def iris_xy(crop: np.ndarray, share: float = 6.0) -> tuple[float, float]:
    """Where the iris is in a 55x35 crop, from the pixels alone: the centroid of its darkest `share`
    percent after a light blur, away from the borders (brows, glasses rims and dark corners sit there).
    A centroid, not the darkest point: with lids that cover the iris' top and bottom, as human and
    UnityEyes lids do, the darkest point sticks to the lash line and barely follows the gaze."""
    f = cv2.GaussianBlur(crop.astype(np.float32), (0, 0), 1.0)[4:-4, 8:-8]
    ys, xs = np.nonzero(f <= np.percentile(f, share))
    return float(xs.mean()) + 8, float(ys.mean()) + 4

