"""Where a hand estimator's error lies: the hand's position in the crop, or its articulation.

For each trained hand estimator (models/estimator-hands-<data>.pt) on a labelled split, in crop
space (mm; the crop's normalized units times half the cube): the mean joint error; the error of
the 14 joints' centroid (where the net puts the hand in the crop, which the crop centring and so
a refiner's holes move); and the error left once both centroids are removed (articulation). Also
the same two parts of predicting the split's mean pose, as a scale. Frames whose labelled joint
centroid lies more than half a cube from the crop centre are crops the depth centring put on
something else (a hand outside its cube): they are counted, and each error is also given without
them. Reads real_val by default: settings are chosen there.

    dvc repro train_estimator@hands-real_train train_estimator@hands-synthetic train_estimator@hands-refined
    python -m bench.hand_error_parts
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from pipeline.estimate.data import crop_scales, load_labelled
from pipeline.estimate.model import load_estimator
from pipeline.estimate.train import predict


def error_parts(pred: np.ndarray, true: np.ndarray, half_cube_mm: np.ndarray) -> dict[str, float]:
    """Mean joint, centroid and articulation errors (mm) of (N, J, 3) crop-normalized joints."""
    scale = half_cube_mm[:, None, None]
    diff = (pred - true) * scale
    centroid = diff.mean(axis=1)
    return {"joint_mm": float(np.linalg.norm(diff, axis=-1).mean()),
            "centroid_mm": float(np.linalg.norm(centroid, axis=-1).mean()),
            "articulation_mm": float(np.linalg.norm(diff - centroid[:, None], axis=-1).mean())}


def missed_hands(true: np.ndarray) -> np.ndarray:
    """(N,) bool: the labelled joints' centroid lies outside the crop's cube (normalized norm > 1)."""
    return np.linalg.norm(true.mean(axis=1), axis=-1) > 1.0


def parts_row(pred: np.ndarray, true: np.ndarray, half_cube_mm: np.ndarray, missed: np.ndarray) -> dict:
    row = {k: round(v, 2) for k, v in error_parts(pred, true, half_cube_mm).items()}
    hit = ~missed
    row["joint_mm_hand_in_crop"] = round(error_parts(pred[hit], true[hit], half_cube_mm[hit])["joint_mm"], 2)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="+", default=["real_train", "synthetic", "refined"], help="training sets")
    ap.add_argument("--split", default="real_val")
    ap.add_argument("--shards", type=Path, default=Path("data/shards/hands"))
    ap.add_argument("--models", type=Path, default=Path("models"))
    args = ap.parse_args()
    split = load_labelled("hands", args.shards / args.split)
    half_cube = crop_scales(split.metas)[2]
    size = split.images.shape[2:]
    missed = missed_hands(split.targets)
    print(json.dumps({"split": args.split, "frames": len(missed), "hand_outside_the_crop": int(missed.sum())}))
    mean_pose = np.broadcast_to(split.targets.mean(axis=0), split.targets.shape)
    print(json.dumps({"split": args.split, "predict": "the split's mean pose",
                      **parts_row(mean_pose, split.targets, half_cube, missed)}))
    for data in args.data:
        model, _ = load_estimator(args.models / f"estimator-hands-{data}.pt", "hands", size)
        pred = predict(model, split.images, torch.device("cpu"))
        print(json.dumps({"split": args.split, "training_data": data,
                          **parts_row(pred, split.targets, half_cube, missed)}), flush=True)


if __name__ == "__main__":
    main()
