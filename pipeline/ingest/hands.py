"""ingest@hands: NYU-layout folders -> data/shards/hands/{synthetic,real_train,real_holdout,real_val,real_test}/.

    synthetic_dir/           synthdepth_K_*.png (else depth_K_*.png) + joint_data.mat -> synthetic
    real_dir/train/          depth_K_*.png (+ joint_data.mat, optional)                -> real_train, real_holdout,
                                                                                          real_val (labelled)
    real_dir/test/           depth_K_*.png + joint_data.mat                            -> real_test
                             (no test/ folder: unlabelled real data, real_test stays empty and the
                             estimator and evaluate stages skip; the refiner needs no labels)

real_val is whole sequences of the train folder (`hands.ingest.val_sequences`, frame k in sequence
(k-1) // sequence_frames); of the other sequences a stable `ingest.holdout_fraction` of frames
is real_holdout (pipeline/ingest/splits.py). Without a joint_data.mat in train/ there is no
real_val: its sequences stay in real_train / real_holdout. A val sequence past the folder's last
frame is a ParamsError naming how many sequences there are (not a silently short real_val).

Each frame becomes a 16-bit PNG depth crop (pipeline.crops.hands) with meta.json per the shard
contract. Labelled splits may be cropped around their labelled joints (`center`); real_train and
real_holdout are cropped from the depth alone (nearest blob), and their shards carry NO labels: the
labels, moved into those crops' pixels, go to data/labels/hands/<split>.parquet for the oracle only.
Every frame listed by a PNG or a joint_data.mat row is either written or rejected with a reason.
Each synthetic frame is also written to synthetic_context: its crop with `context_margin` x the
cube around the same centre (the same pixel pitch), with the final crop's recipe in meta
"context"; refine@hands refines these and cuts the final crops again (pipeline/refine/context.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from pipeline.crops import hands as crops
from pipeline.errors import PipelineError
from pipeline.formats import nyu, rel_source
from pipeline.ingest.common import ingest_domain
from pipeline.ingest.splits import LABELLED, train_or_holdout
from pipeline.params import HandIngest, Params, ParamsError, to_dict
from pipeline.shards import Reject, Sample

CONTEXT = "synthetic_context"  # each synthetic frame's context crop (pipeline/refine/context.py)


@dataclass(frozen=True)
class Frame:
    """One frame to load: picklable, so worker processes get it whole."""
    split: str
    path: str
    source: str
    key: str
    joints_uvd: tuple | None = None  # the 14 evaluation joints (frame u, v px, d mm)
    joints_xyz: tuple | None = None
    problem: str = ""                # known before decoding (no label row for this PNG)
    index: int = 0                   # frame number k of depth_K_<k>.png / the label row (1-based)


def real_train_split(i: int, source: str, labelled: bool, p: HandIngest, holdout_fraction: float) -> str:
    """Frame i (1-based) of real_dir/train: real_val by its sequence, else real_train / real_holdout."""
    if labelled and (i - 1) // p.sequence_frames in p.val_sequences:
        return "real_val"
    return train_or_holdout(source, holdout_fraction)


def check_val_sequences(frames: list[Frame], p: HandIngest, train_dir: Path) -> None:
    """A val_sequences entry past the end of real_dir/train would select no frame: real_val would be
    silently smaller (or empty) than asked. Only labelled train folders have a real_val."""
    if not p.val_sequences or not any(f.joints_uvd is not None for f in frames):
        return
    n_frames = max(f.index for f in frames)
    n_sequences = -(-n_frames // p.sequence_frames)
    past = sorted(s for s in set(p.val_sequences) if not 0 <= s < n_sequences)
    if past:
        raise ParamsError(
            f"hands.ingest.val_sequences: {past} past the end of {train_dir}: its {n_frames} frames make "
            f"{n_sequences} sequence(s) of hands.ingest.sequence_frames {p.sequence_frames} "
            f"(0..{n_sequences - 1}); choose val_sequences among those")


def list_split(split_dir: Path, split: str, kinect: int, data_root: Path, split_of=None) -> list[Frame]:
    """Every frame of a split folder: the union of its PNGs and its joint_data.mat rows.
    `split_of(i, source, labelled)` (real_dir/train) gives each frame's split, else all are `split`."""
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        return [Frame(split, str(split_dir), rel_source(split_dir, data_root), "none",
                      problem="input folder does not exist (expected NYU's layout, see docs/formats.md)")]
    prefix = nyu.depth_prefix(split_dir, kinect)
    files = nyu.list_frames(split_dir, kinect, prefix)
    try:
        joints = read_labels(split_dir / "joint_data.mat", split, kinect)
    except nyu.NyuFormatError as e:  # every frame of the split is rejected, naming the label file
        bad = f"joint_data.mat: {e}"
        return [Frame(split, str(path), rel_source(path, data_root), path.stem, problem=bad) for path in files.values()] \
            or [Frame(split, str(split_dir / "joint_data.mat"), rel_source(split_dir / "joint_data.mat", data_root),
                      "none", problem=bad)]
    n_rows = 0 if joints is None else len(joints.uvd)
    eval_ids = list(nyu.EVAL_JOINTS)
    frames = []
    for i in sorted(set(files) | set(range(1, n_rows + 1))):
        path = files.get(i, split_dir / nyu.frame_name(i, kinect, prefix))
        labels = {}
        problem = ""
        if i <= n_rows:
            labels = {"joints_uvd": _tuples(joints.uvd[i - 1, eval_ids]),
                      "joints_xyz": _tuples(joints.xyz[i - 1, eval_ids])}
        elif joints is not None:
            problem = f"no label row: joint_data.mat has {n_rows} frames, the folder {len(files)} {prefix} PNGs"
        source = rel_source(path, data_root)
        frame_split = split_of(i, source, joints is not None) if split_of else split
        frames.append(Frame(frame_split, str(path), source, path.stem, problem=problem, index=i, **labels))
    if not frames:
        frames.append(Frame(split, str(split_dir), rel_source(split_dir, data_root), "none",
                            problem=f"no {prefix}_{kinect}_*.png frames and no joint_data.mat rows"))
    return frames


def read_labels(mat: Path, split: str, kinect: int) -> nyu.JointData | None:
    if not mat.exists():
        if split in LABELLED and split != "real_val":
            raise PipelineError(f"{mat}: missing; the {split} split needs its labels")
        return None  # unlabelled real data: fine for real_train
    return nyu.read_joint_data(mat, kinect)


def load_frame(frame: Frame, p: HandIngest) -> list[Sample | Reject]:
    """Decode, locate the hand, crop; or a Reject saying why not."""
    if frame.problem:
        return [Reject(frame.source, frame.problem, split) for split in splits_of(frame.split)]
    try:
        depth = nyu.read_depth(frame.path)
    except FileNotFoundError:
        return [Reject(frame.source, "missing frame file (listed in joint_data.mat)", split)
                for split in splits_of(frame.split)]
    except nyu.NyuFormatError as e:
        return [Reject(frame.source, str(e), split) for split in splits_of(frame.split)]
    if frame.split in LABELLED and p.center == "labels":
        center = crops.center_from_joints(np.array(frame.joints_uvd))
        if not p.min_depth_mm <= center[2] <= p.max_depth_mm:
            return [Reject(frame.source, f"no hand in range: labelled hand at {center[2]:.0f} mm, outside "
                                         f"[{p.min_depth_mm:.0f}, {p.max_depth_mm:.0f}]", split)
                    for split in splits_of(frame.split)]
    else:
        center = crops.center_from_depth(depth, p.cube_mm, p.min_depth_mm, p.max_depth_mm, p.min_hand_pixels)
        if center is None:
            return [Reject(frame.source, f"no hand in range: no depth blob of {p.min_hand_pixels} px in "
                                         f"[{p.min_depth_mm:.0f}, {p.max_depth_mm:.0f}] mm", split)
                    for split in splits_of(frame.split)]
    crop = crops.crop_dict(center, p.cube_mm, p.size)
    image = crops.crop_depth(depth, crop)
    hand_px = hand_pixels(image, crop)
    if hand_px < p.min_hand_pixels:
        reason = f"no hand in range: {hand_px:.0f} frame px of depth inside the {p.cube_mm:.0f} mm cube (< {p.min_hand_pixels})"
        return [Reject(frame.source, reason, split) for split in splits_of(frame.split)]
    sample = crop_sample(frame, frame.split, image, crop)
    if frame.split != "synthetic":
        return [sample]
    wide = crops.wide_crop_dict(center, p.cube_mm, p.size, p.context_margin)
    context = crop_sample(frame, CONTEXT, crops.crop_depth(depth, wide), wide)
    context.meta["context"] = {"cube_mm": p.cube_mm, "size": p.size, "min_depth_mm": p.min_depth_mm,
                               "max_depth_mm": p.max_depth_mm, "min_hand_pixels": p.min_hand_pixels,
                               "synthetic_crop": crop}
    return [sample, context]


def splits_of(split: str) -> tuple[str, ...]:
    """The splits a frame of `split` is written to: a synthetic frame also as its context crop."""
    return (split, CONTEXT) if split == "synthetic" else (split,)


def crop_sample(frame: Frame, split: str, image: np.ndarray, crop: dict) -> Sample:
    meta = {"id": frame.key, "domain": "hands", "split": split, "source": frame.source, "crop": crop}
    if frame.joints_uvd is not None:
        meta["labels"] = {"joints_uvd": _rounded(crops.crop_uvd(np.array(frame.joints_uvd), crop)),
                          "joints_xyz": _rounded(np.array(frame.joints_xyz)),
                          "joint_ids": list(nyu.EVAL_JOINTS)}
    return Sample(frame.key, image, meta)


def hand_pixels(image: np.ndarray, crop: dict) -> float:
    """Foreground of a crop, in frame pixels (a crop pixel stands for (box / size)^2 of them)."""
    d, half, s = crop["center_uvd"][2], crop["cube_mm"] / 2.0, crop["size"]
    per_px = (2 * half * crop["fx"] / d / s) * (2 * half * crop["fy"] / d / s)
    return float(np.count_nonzero(image != crops.far_value(crop))) * per_px


def plan(params: Params, synthetic_dir: Path, real_dir: Path) -> tuple[list[Frame], partial]:
    """(frames of all splits, picklable load(frame) -> [Sample | Reject])."""
    k = params.hands.ingest.kinect
    split_of = partial(real_train_split, p=params.hands.ingest, holdout_fraction=params.ingest.holdout_fraction)
    train = list_split(Path(real_dir) / "train", "real_train", k, Path(real_dir).parent, split_of)
    check_val_sequences(train, params.hands.ingest, Path(real_dir) / "train")
    frames = list_split(synthetic_dir, "synthetic", k, Path(synthetic_dir).parent) + train
    if has_test_folder(real_dir):
        frames += list_split(Path(real_dir) / "test", "real_test", k, Path(real_dir).parent)
    return frames, partial(load_frame, p=params.hands.ingest)


NO_TEST_WARNING = ("no test/ folder beside train/: real_test is empty (unlabelled real data); the estimator "
                   "and evaluate stages will record that they skipped")


def has_test_folder(real_dir: Path) -> bool:
    """NYU's test/ is optional: without it the real side is unlabelled (train/ alone, labels or not).
    A missing train/ is still a reject (an empty real_train is an error)."""
    return (Path(real_dir) / "test").is_dir() or not (Path(real_dir) / "train").is_dir()


def ingest_hands(params: Params, synthetic_dir: Path, real_dir: Path, out_root: Path) -> dict:
    """Write the hand splits under out_root/shards/hands and the labels kept apart; returns counts."""
    frames, load = plan(params, synthetic_dir, real_dir)
    test = has_test_folder(real_dir)
    info = {"domain": "hands", "params": to_dict(params.hands.ingest),
            "synthetic": str(synthetic_dir), "real": str(real_dir), "warnings": [] if test else [NO_TEST_WARNING]}
    return ingest_domain("hands", frames, load, out_root, params, info, may_be_empty=() if test else ("real_test",))

ingest = ingest_hands  # the name stages/ingest.py calls for every domain


def _tuples(a: np.ndarray) -> tuple:
    return tuple(tuple(float(x) for x in row) for row in a)


def _rounded(a: np.ndarray) -> list:
    return np.round(a, 3).tolist()
