"""UnityEyes renders (`N.jpg` + `N.json`) -> 55x35 grey eye crops with gaze, head pose, landmarks.

Facts (docs/formats.md, GazeML's UnityEyes reader): 2D points are strings "(x, y, z)" with the
origin at the bottom-left (image y = H - y); look_vec "(x, y, z, 0)" is in camera axes with y up,
so pitch = asin(look.y), yaw = atan2(-look.x, -look.z); head_pose "(pitch, yaw, roll)" in degrees,
wrapped as GazeML does (pitch > 180 -> pitch - 360, yaw -> yaw - 180). The crop is a 5:3 box
around the centre of the interior-margin bounding box, 1.35x the eye's corner-to-corner width
(140x84 for a 104 px eye; crops.unityeyes_box).
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import cv2
import numpy as np

from pipeline.crops import eyes as crops
from pipeline.formats import eye_sample, gaze_labels, rel_source, reject, rounded, sample_key, vector_length

N_POINTS = {"interior_margin_2d": 16, "caruncle_2d": 7, "iris_2d": 32}


class BadAnnotation(ValueError):
    pass


def parse_tuple(text, n: int, what: str) -> np.ndarray:
    """'(x, y, z)' -> n finite floats, or BadAnnotation naming the field."""
    if not isinstance(text, str):
        raise BadAnnotation(f"{what}: expected a string like '(x, y, z)', got {type(text).__name__} {text!r}")
    parts = text.strip().removeprefix("(").removesuffix(")").split(",")
    try:
        values = np.array([float(p) for p in parts], float)
    except ValueError:
        raise BadAnnotation(f"{what}: not a tuple of numbers: {text!r}") from None
    if len(values) < n:
        raise BadAnnotation(f"{what}: expected {n} numbers, got {len(values)} in {text!r}")
    if not np.isfinite(values[:n]).all():
        raise BadAnnotation(f"{what}: non-finite value in {text!r}")
    return values[:n]


def parse_points(ann: dict, field: str, height: float) -> np.ndarray:
    """A UnityEyes point list -> (N, 2) image coordinates (y flipped to top-left origin)."""
    pts = ann.get(field)
    if not isinstance(pts, list):
        raise BadAnnotation(f"missing or non-list key {field!r}")
    if len(pts) != N_POINTS[field]:
        raise BadAnnotation(f"{field}: expected {N_POINTS[field]} points, got {len(pts)}")
    xy = np.stack([parse_tuple(p, 2, f"{field}[{i}]") for i, p in enumerate(pts)])
    xy[:, 1] = height - xy[:, 1]
    return xy


def wrap_head_pose(pitch: float, yaw: float, roll: float) -> tuple[float, float, float]:
    """GazeML's wrap of UnityEyes head pose to degrees around 0."""
    pitch = pitch - 360.0 if pitch > 180.0 else pitch
    roll = roll - 360.0 if roll > 180.0 else roll
    return pitch, yaw - 180.0, roll


def parse_annotation(ann, height: float) -> dict:
    """Validated geometry and labels of one UnityEyes JSON, in image pixels (top-left origin)."""
    if not isinstance(ann, dict):
        raise BadAnnotation(f"top level must be an object, got {type(ann).__name__}")
    details = ann.get("eye_details")
    if not isinstance(details, dict) or "look_vec" not in details:
        raise BadAnnotation("missing key 'eye_details.look_vec'")
    if "head_pose" not in ann:
        raise BadAnnotation("missing key 'head_pose'")
    look = parse_tuple(details["look_vec"], 3, "eye_details.look_vec")
    norm = vector_length(look)
    if norm < 1e-6:
        raise BadAnnotation(f"eye_details.look_vec is zero: {details['look_vec']!r}")
    look = look / norm
    return {
        "interior_margin": parse_points(ann, "interior_margin_2d", height),
        "caruncle": parse_points(ann, "caruncle_2d", height),
        "iris": parse_points(ann, "iris_2d", height),
        "pitch": math.asin(float(np.clip(look[1], -1, 1))),
        "yaw": math.atan2(-look[0], -look[2]),
        "head_pose_deg": wrap_head_pose(*parse_tuple(ann["head_pose"], 3, "head_pose")),
    }


def head_pose_ok(head_pose_deg, max_deg: float) -> bool:
    return abs(head_pose_deg[0]) <= max_deg and abs(head_pose_deg[1]) <= max_deg


def decode_jpeg_grey(data: bytes) -> np.ndarray:
    """JPEG bytes -> grey uint8, or BadAnnotation for empty, truncated or undecodable files."""
    if not data:
        raise BadAnnotation("empty image file")
    if data[:2] != b"\xff\xd8":
        raise BadAnnotation("not a JPEG (no start-of-image marker)")
    if not data.rstrip(b"\0\r\n ").endswith(b"\xff\xd9"):  # libjpeg would pad a cut file with grey
        raise BadAnnotation("truncated JPEG (no end-of-image marker)")
    grey = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if grey is None:
        raise BadAnnotation("corrupt JPEG (does not decode)")
    return grey


def crop_render(grey: np.ndarray, geom: dict, out_wh=crops.OUT_SIZE) -> tuple[np.ndarray, dict, dict]:
    """The crop around the interior-margin bbox centre, scaled to the eye's width (crops.unityeyes_box),
    its meta and crop-pixel landmarks."""
    h, w = grey.shape
    margin = geom["interior_margin"]
    lo, hi = margin.min(0), margin.max(0)
    if lo[0] < 0 or lo[1] < 0 or hi[0] > w or hi[1] > h:
        raise BadAnnotation(f"eye landmarks fall outside the {w}x{h} image (wrong image size for this JSON?)")
    meta = crops.crop_meta((lo + hi) / 2, crops.unityeyes_box(hi[0] - lo[0]), out_wh, (w, h))
    iris = crops.points_to_crop(geom["iris"], meta)
    landmarks = {"interior_margin": rounded(crops.points_to_crop(margin, meta)),
                 "iris": rounded(iris), "iris_center": rounded(iris.mean(0))}
    return crops.apply_crop(grey, meta), meta, landmarks


def read_render(jpg_path: str, root: str, head_pose_max_deg: float, out_wh=crops.OUT_SIZE) -> list:
    """One UnityEyes render -> [Sample] or [Reject]."""
    jpg = Path(jpg_path)
    source = rel_source(jpg, root)
    try:
        grey = decode_jpeg_grey(jpg.read_bytes())
        try:
            ann = json.loads(jpg.with_suffix(".json").read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise BadAnnotation(f"no annotation {jpg.stem}.json beside the image") from None
        except UnicodeDecodeError as e:
            raise BadAnnotation(f"{jpg.stem}.json is not UTF-8 text (byte {e.start}: {e.reason})") from None
        except ValueError as e:
            raise BadAnnotation(f"{jpg.stem}.json is not valid JSON ({e})") from None
        geom = parse_annotation(ann, grey.shape[0])
        if not head_pose_ok(geom["head_pose_deg"], head_pose_max_deg):
            p, y, _ = geom["head_pose_deg"]
            return [reject(source, f"filtered: head pose pitch {p:.1f}, yaw {y:.1f} deg outside "
                                   f"+-{head_pose_max_deg:g} deg (eyes.ingest.head_pose_max_deg)")]
        crop, meta, landmarks = crop_render(grey, geom, out_wh)
    except (BadAnnotation, OSError) as e:
        return [reject(source, str(e))]
    labels = {"gaze": gaze_labels(geom["pitch"], geom["yaw"]),
              "head_pose_deg": [round(float(a), 4) for a in geom["head_pose_deg"]],
              "landmarks": landmarks}
    return [eye_sample(sample_key("ue", jpg.stem), crop, source, meta, labels)]


def _natural(path: Path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def list_renders(root: str | Path) -> list[str]:
    """Items for `read_item`: every .jpg, every .json without an image, every stray file."""
    files = sorted((p for p in Path(root).rglob("*") if p.is_file()), key=_natural)
    jpgs = {p.with_suffix("") for p in files if p.suffix == ".jpg"}
    return [str(p) for p in files if p.suffix == ".jpg" or p.with_suffix("") not in jpgs]


def read_item(path: str, root: str, head_pose_max_deg: float, out_wh=crops.OUT_SIZE) -> list:
    """Dispatch one listed file: a render, an orphan annotation, or a stray file."""
    p = Path(path)
    if p.suffix == ".jpg":
        return read_render(path, root, head_pose_max_deg, out_wh)
    if p.suffix == ".json":
        return [reject(rel_source(p, root), f"annotation without its image {p.stem}.jpg")]
    return [reject(rel_source(p, root), "not a UnityEyes file (expected N.jpg + N.json)")]


# ---------------------------------------------------------------- writing (the embedded simulator)
def tuple_str(values) -> str:
    """UnityEyes' number-tuple string, e.g. '(371.4855, 296.4230, 8.8595)'."""
    return "(" + ", ".join(f"{float(v):.4f}" for v in values) + ")"


def points_json(xy: np.ndarray, z: np.ndarray, height: float) -> list[list[str]]:
    """(N, K, 2) image points (top-left origin) -> N lists of K UnityEyes point strings
    (bottom-left origin); one % format over the whole batch, as this runs per render."""
    n, k, _ = xy.shape
    xyz = np.concatenate([xy[..., :1], height - xy[..., 1:2], np.broadcast_to(np.reshape(z, (1, k, 1)), (n, k, 1))], -1)
    flat = (("(%.4f, %.4f, %.4f)\n" * (n * k)) % tuple(xyz.ravel().tolist())).split("\n")
    return [flat[i * k:(i + 1) * k] for i in range(n)]
