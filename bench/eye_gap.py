"""How much of the eye domain gap could a refiner close at all? (the eyes' bench/hand_gap.py)

A refiner held to its input by self-regularization changes how an eye looks, not its geometry:
where the iris sits for a gaze, how large it is, how far it moves per degree. The embedded domains
differ in both. The synthetic renders have UnityEyes' proportions (eyes_synthetic: an iris of
0.31-0.35 eye widths on an eyeball of 0.63), the real-like eyes human ones (eyes_real: 0.18-0.21
on 0.45), so in crops framed by the eye corners the iris of a synthetic eye moves ~1.5x further
per degree. This script renders training sets through the real-like appearance model (its people,
light, camera, noise, equalization), one part of the gap at a time, trains the estimator with the
default budget on each and evaluates it on the real_val split (settings are chosen there; real_test
is read by evaluate alone):

    sensor        the pipeline's synthetic crops themselves through the real-like camera (exposure,
                  one-sided light, defocus, noise, JPEG, equalization; eyes_real.camera): a refiner
                  that learnt the camera and nothing of skin, lids or people
    refined_sensor  the pipeline's refined crops through the same camera: does R's gain add to
                  the camera's, or overlap it?
    camera        the synthetic renders' geometry and gaze range (UnityEyes' proportions, gaze
                  uniform in +-25 deg pitch, +-30 deg yaw, the eye at 0.74 of the crop's width)
                  seen as the real-like eyes are: the best a perfect refiner could give
    human_eye     the same with human eye proportions (the real-like people's own): what is
                  left is the gaze range and the number of people
    real_gaze     human_eye with the real-like gaze distribution: an oracle with many people

With --c2st each set is also told from real_holdout (real_train's people, other frames) by the
realism stage's classifier (`pipeline.realism.c2st`, its params): real_train there is the
within-population floor, and the rendered sets, whose people are new, show how much of the
eye C2ST is the people themselves.

Each line also gives the per-axis slope of the predictions against the truth on real_val (1: no
scale error) and the error once that linear map is undone, which no label-preserving refiner can
reach and a few labelled real eyes could.

    dvc repro refine@eyes && python -m bench.eye_gap --c2st --seeds 0 1 2      # BENCHMARKS.md's table
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from bench.estimator_error import fit_estimator
from pipeline.crops import eyes as crops
from pipeline.device import pick_device
from pipeline.estimate.data import LabelledSplit, load_labelled, read_images, training_paths
from pipeline.estimate.metrics import angular_error_deg
from pipeline.estimate.train import predict, set_threads
from pipeline.params import Realism, load_params
from pipeline.realism import c2st
from pipeline.simulate import eyes as sim
from pipeline.simulate import eyes_real, eyes_synthetic

SENSED = {"sensor": "synthetic", "refined_sensor": "refined"}   # variant -> the pipeline's set it senses
RENDERED = ("camera", "human_eye", "real_gaze")
VARIANTS = (*SENSED, *RENDERED)
UNITY_WIDTH_FRAC = 0.74   # eye corners over crop width in the synthetic crops (crops.eyes.unityeyes_box)
FRAMES_PER_PERSON = 50    # many people, one session each: appearance spreads, not a few faces


def render_set(variant: str, n: int, seed: int) -> LabelledSplit:
    """`n` real-look 55x35 crops with their (pitch, yaw) for `variant` (left eyes, as ingest stores them)."""
    rng = np.random.default_rng([seed, 16])
    meta = crops.whole_image_meta((eyes_real.IMAGE_W, eyes_real.IMAGE_H))
    images, targets = [], []
    for start in range(0, n, FRAMES_PER_PERSON):
        m = min(FRAMES_PER_PERSON, n - start)
        person, session = eyes_real.sample_person(rng), eyes_real.sample_session(rng)
        if variant == "camera":
            person = dataclasses.replace(
                person, width_frac=UNITY_WIDTH_FRAC, iris_frac=rng.uniform(*eyes_synthetic.IRIS_FRAC),
                radius_frac=eyes_synthetic.RADIUS_FRAC, openness=rng.uniform(*eyes_synthetic.OPENNESS))
        if variant == "real_gaze":
            pitch, yaw = sim.draw_gaze(rng, m, sim.REAL_PITCH_DEG), sim.draw_gaze(rng, m, sim.REAL_YAW_DEG)
        else:
            pitch = np.radians(rng.uniform(-eyes_synthetic.GAZE_PITCH_DEG, eyes_synthetic.GAZE_PITCH_DEG, m))
            yaw = np.radians(rng.uniform(-eyes_synthetic.GAZE_YAW_DEG, eyes_synthetic.GAZE_YAW_DEG, m))
        for im in eyes_real.render(rng, person, session, pitch, yaw):
            images.append(crops.normalize(crops.apply_crop(im, meta)))
        targets.append(np.stack([pitch, yaw], 1))
    return LabelledSplit([f"{variant}-{i:05d}" for i in range(n)], np.stack(images)[:, None].astype(np.float32),
                         np.concatenate(targets).astype(np.float32), [{} for _ in range(n)])


def sensed_set(split: LabelledSplit, seed: int) -> LabelledSplit:
    """A split's crops through the real-like camera, one session per FRAMES_PER_PERSON crops."""
    rng = np.random.default_rng([seed, 17])
    radiance = (crops.denormalize(split.images[:, 0]).astype(np.float32) / 200.0)  # camera() writes x200
    images = [eyes_real.camera(rng, radiance[i:i + FRAMES_PER_PERSON], eyes_real.sample_session(rng))
              for i in range(0, len(radiance), FRAMES_PER_PERSON)]
    images = np.concatenate(images)[:, None]
    return dataclasses.replace(split, images=crops.normalize(images).astype(np.float32))


def c2st_accuracy(real: np.ndarray, other: np.ndarray, cfg: Realism, seed: int, device) -> list[float]:
    """[accuracy, ci low, ci high] of the realism stage's classifier, equal-sized random draws."""
    rng = np.random.default_rng(seed)
    n = min(len(real), len(other), cfg.max_samples)
    real, other = real[rng.permutation(len(real))[:n]], other[rng.permutation(len(other))[:n]]
    out = c2st(real, other, max(1, round(n * cfg.test_fraction)), cfg, seed, device)
    return [round(out["accuracy"], 3), *(round(c, 3) for c in out["ci95"])]


def scale_report(pred: np.ndarray, true: np.ndarray) -> dict:
    """Per-axis slope and offset of predictions on truth, and the error with that map undone."""
    out, undone = {}, pred.astype(np.float64).copy()
    for k, axis in enumerate(("pitch", "yaw")):
        slope, offset = np.polyfit(true[:, k], pred[:, k], 1)
        out[f"{axis}_slope"] = round(float(slope), 3)
        undone[:, k] = (pred[:, k] - offset) / slope
    out["error_linear_undone_deg"] = round(float(angular_error_deg(undone, true).mean()), 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--data", nargs="*", default=["synthetic", "refined", "real_train"],
                    help="the pipeline's training sets to measure alongside (their shards must exist)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--samples", type=int, default=0, help="rendered per variant (0: train_estimator.max_samples)")
    ap.add_argument("--c2st", action="store_true", help="also C2ST real_holdout vs each set (realism params)")
    ap.add_argument("--params", default="params.yaml")
    args = ap.parse_args()
    params = load_params(args.params).domain("eyes")
    cfg = params.train_estimator
    set_threads(cfg.threads)
    device = pick_device()
    val = load_labelled("eyes", Path("data/shards/eyes/real_val"))
    holdout = read_images("eyes", Path("data/shards/eyes/real_holdout"), params.realism.max_samples, 0)[1] \
        if args.c2st else None
    for name in [*args.data, *args.variants]:
        for seed in args.seeds:
            if name in RENDERED:
                train = render_set(name, args.samples or cfg.max_samples, seed)
            else:
                split_dir, labels = training_paths("data", "eyes", SENSED.get(name, name))
                train = load_labelled("eyes", split_dir, labels_path=labels, max_samples=cfg.max_samples, seed=seed)
                if name in SENSED:
                    train = sensed_set(train, seed)
            model = fit_estimator("eyes", train, cfg, seed, device)
            pred = predict(model, val.images, device, cfg.precision)
            err = float(angular_error_deg(pred, val.targets).mean())
            extra = {}
            if holdout is not None:
                extra["c2st_vs_real_holdout"] = c2st_accuracy(holdout, train.images, params.realism, seed, device)
            print(json.dumps({"train": name, "seed": seed, "real_val_error_deg": round(err, 3),
                              **scale_report(pred, val.targets), **extra}), flush=True)


if __name__ == "__main__":
    main()
