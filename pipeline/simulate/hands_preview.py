"""Preview of the hand domains: frames read back through the NYU reader, 14 joints drawn.

Row 1 synthetic, row 2 real (real/train; real-like when generated): four frames each, at half size, depth coloured
from near (red) to far (blue), no depth black; the skeleton of the 14 evaluation joints on top.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.files import write_png
from pipeline.formats import nyu
from pipeline.raw_source import raw_dirs

# the 14 evaluation joints' skeleton, as indices into nyu.EVAL_JOINTS' order
SKELETON = [(13, 1), (1, 0), (13, 3), (3, 2), (13, 5), (5, 4), (13, 7), (7, 6),
            (13, 10), (10, 9), (9, 8), (13, 11), (13, 12)]
FINGER_COLOURS = [(60, 60, 255), (60, 200, 60), (255, 120, 40), (0, 200, 255), (255, 60, 255), (255, 255, 255)]
JOINT_FINGER = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5]
PER_ROW = 4


def colour_depth(depth: np.ndarray) -> np.ndarray:
    """uint16 mm -> BGR, the range of the frame's valid depths stretched to the colour map."""
    valid = depth > 0
    if not valid.any():
        return np.zeros(depth.shape + (3,), np.uint8)
    lo, hi = np.percentile(depth[valid], [1, 99])
    x = np.clip((depth.astype(np.float32) - lo) / max(hi - lo, 1.0), 0, 1)
    bgr = cv2.applyColorMap((x * 255).astype(np.uint8), cv2.COLORMAP_JET)
    bgr[~valid] = 0
    return bgr


def draw_joints(bgr: np.ndarray, uv: np.ndarray, scale: float = 1.0) -> np.ndarray:
    pts = np.rint(uv * scale).astype(int)
    for i, j in SKELETON:
        cv2.line(bgr, tuple(pts[i]), tuple(pts[j]), FINGER_COLOURS[JOINT_FINGER[j]], 1, cv2.LINE_AA)
    for k, p in enumerate(pts):
        cv2.circle(bgr, tuple(p), 2, FINGER_COLOURS[JOINT_FINGER[k]], -1, cv2.LINE_AA)
    return bgr


def tiles(split_dir: Path, title: str) -> np.ndarray:
    prefix = nyu.depth_prefix(split_dir)
    frames = list(nyu.list_frames(split_dir, 1, prefix).items())[:PER_ROW]
    try:  # unlabelled real frames (no joint_data.mat) or a bad one: the preview shows depth only
        joints = nyu.read_joint_data(split_dir / "joint_data.mat").uvd
    except (FileNotFoundError, nyu.NyuFormatError):
        joints = None
    row = []
    for index, path in frames:
        try:
            depth = nyu.read_depth(path)
        except nyu.NyuFormatError:
            continue  # ingest rejects it, naming why
        bgr = cv2.resize(colour_depth(depth), (nyu.WIDTH // 2, nyu.HEIGHT // 2), interpolation=cv2.INTER_NEAREST)
        if joints is not None and index <= len(joints):
            draw_joints(bgr, joints[index - 1, list(nyu.EVAL_JOINTS), :2], 0.5)
        cv2.putText(bgr, f"{title} {path.name}", (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1,
                    cv2.LINE_AA)
        row.append(bgr)
    row += [np.zeros((nyu.HEIGHT // 2, nyu.WIDTH // 2, 3), np.uint8)] * (PER_ROW - len(row))
    return np.hstack(row)


def write_preview(raw_root: Path, out_png: Path) -> Path:
    """Generated folders, or the real NYU folders that simulate@hands pointed at (source.json)."""
    synthetic, real = raw_dirs(raw_root)
    generated = not (Path(raw_root) / "source.json").exists()
    grid = np.vstack([tiles(synthetic, "synthetic"), tiles(real / "train", "real-like" if generated else "real")])
    out_png.parent.mkdir(parents=True, exist_ok=True)
    write_png(grid, out_png)
    return out_png
