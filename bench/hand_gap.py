"""How much of the hand domain gap could a refiner close at all? ("what limits them")

A refiner changes how a depth crop looks, never the scene in it nor where the crop was cut.
The real-like hand frames differ from the synthetic renders in the sensor (Kinect artefacts,
coarse 2x2 depth blocks) and in the scene (an elbow and upper arm instead of a straight forearm,
a body, a table, a wall). This script re-renders the synthetic split's very hands (same seeds,
poses and labels) with one part of the gap added, trains the estimator with the default budget
and seed on them and evaluates it on the real_val split (settings are chosen there; real_test is read by evaluate alone):

    sensor            seen through the Kinect model, cut with the synthetic split's own crops:
                      the best a perfect refiner of the crops could give
    sensor_recentred  the same frames cut as the real splits are, around the sensed depth
                      (ingested with the same readers): the crop centring is part of the gap
    sensor_recrop     the refine-with-context path with a perfect refiner: the sensed frames in
                      each synthetic sample's context crop (hands.ingest.context_margin x the cube
                      around its centre), cut again around their own depth (crops.hands.recrop)
    scene             the real-like arm and room, rendered clean: the part no refiner may touch
    grid_recrop, noise_recrop, holes_recrop, shadow_recrop, edges_recrop, blobs_recrop, all_edges_recrop
                      sensor_recrop with part of the Kinect model (pipeline/simulate/hands_kinect.py,
                      kinect_part below) on the coarse 2x2-block grid: which part a refiner must learn

    dvc repro ingest@hands && python -m bench.hand_gap --out /tmp/hand_gap
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import shutil
from pathlib import Path

import numpy as np

from bench.estimator_error import real_val_metrics
from pipeline.refine.annotation_check import label_shift, summarize
from pipeline.crops import hands as crops
from pipeline.device import pick_device
from pipeline.raw_source import generated_dir, raw_dirs
from pipeline.estimate.data import LabelledSplit, encode_targets, load_labelled
from pipeline.estimate.train import set_threads
from pipeline.formats import nyu
from pipeline.ingest.hands import ingest_hands
from pipeline.params import load_params
from pipeline.shards import read_samples
from pipeline.simulate import hands as sim
from pipeline.simulate import hands_kinect as kin

SYNTHETIC = Path("data/shards/hands/synthetic")
# the variants' frames: the synthetic split's hands (its generator stream) with part of the gap
LOOKS = {"sensor": sim.Look(real_arm=False, room=False, sensed=True),
         "sensor_recentred": sim.Look(real_arm=False, room=False, sensed=True),
         "sensor_recrop": sim.Look(real_arm=False, room=False, sensed=True),
         "scene": sim.Look(real_arm=True, room=True, sensed=False)}
# sensor_recrop with part of the Kinect model (its steps by name; every variant keeps the coarse grid)
HOLES = ("shadow", "edges", "blobs", "all_edges")
SENSOR_PARTS = {"grid_recrop": (), "noise_recrop": ("noise",), "holes_recrop": HOLES,
                "shadow_recrop": ("shadow",), "edges_recrop": ("edges",), "blobs_recrop": ("blobs",),
                "all_edges_recrop": ("all_edges",)}
LOOKS.update({v: LOOKS["sensor_recrop"] for v in SENSOR_PARTS})
VARIANTS = tuple(LOOKS)


def kinect_part(*parts: str):
    """The Kinect model (hands_kinect.kinect) with only the named steps (kin.STEPS and "all_edges",
    every depth-edge pixel dropped); range limits come with any hole step. No step: the clean
    depth on the coarse grid, rounded to the mm."""
    steps = (("range",) if set(parts) & set(HOLES) else ()) + parts
    return functools.partial(kin.kinect, steps=steps)


def in_synthetic_crops(raw: Path, synthetic: LabelledSplit) -> LabelledSplit:
    """The re-rendered frames cut with each synthetic sample's own crop: same labels, new pixels.
    Prints the refine stage's annotation check of these crops against the synthetic ones: what
    the check makes of a perfect refiner."""
    sensed = np.stack([crops.crop_depth(nyu.read_depth(raw / f"{key}.png"), meta["crop"])
                       for key, meta in zip(synthetic.keys, synthetic.metas)])
    stored = {s.key: s.image for s in read_samples(SYNTHETIC, by_node=False)}  # what refine compares with
    check = label_shift("hands", np.stack([stored[k] for k in synthetic.keys]), sensed, synthetic.metas)
    print(json.dumps({"annotation_check_of_the_kinect_model": summarize("hands", check, 10.0, 0.2)}), flush=True)
    images = [crops.normalize(d, meta) for d, meta in zip(sensed, synthetic.metas)]
    return LabelledSplit(synthetic.keys, np.stack(images)[:, None].astype(np.float32), synthetic.targets,
                         synthetic.metas)


def recropped(raw: Path, synthetic: LabelledSplit, p) -> LabelledSplit:
    """The re-rendered frames in each synthetic sample's context crop, cut again around their own
    depth (as refine@hands cuts refined context crops); labels moved through both crops."""
    images, metas, lost = [], [], 0
    for key, meta in zip(synthetic.keys, synthetic.metas):
        wide = crops.wide_crop_dict(meta["crop"]["center_uvd"], p.cube_mm, p.size, p.context_margin)
        cut = crops.recrop(crops.crop_depth(nyu.read_depth(raw / f"{key}.png"), wide), wide, p.cube_mm, p.size,
                           p.min_depth_mm, p.max_depth_mm, p.min_hand_pixels)
        if cut is None:  # no hand blob left in the context crop: drop the frame, as ingest rejects it
            lost += 1
            continue
        image, final = cut
        joints = crops.crop_uvd(crops.uncrop_uvd(meta["labels"]["joints_uvd"], meta["crop"]), final)
        metas.append({**meta, "crop": final, "labels": {**meta["labels"], "joints_uvd": joints.tolist()}})
        images.append(crops.normalize(image, metas[-1]))
    print(json.dumps({"recrop_without_a_hand_blob": lost}), flush=True)
    return LabelledSplit([m["id"] for m in metas], np.stack(images)[:, None].astype(np.float32),
                         encode_targets("hands", metas, str(raw)), metas)


def training_set(variant: str, out: Path, params) -> LabelledSplit:
    cfg, p = params.hands.train_estimator, params.hands.simulate
    raw = out / "raw" / "synthetic"
    if variant in SENSOR_PARTS:  # one process, so that the swapped sensor is the one rendering
        p = dataclasses.replace(p, workers=1)
        sim.kinect = kinect_part(*SENSOR_PARTS[variant])
    try:
        sim.simulate_split(raw, "synthetic", p.n_synthetic, p, params.seed, look=LOOKS[variant])
    finally:
        sim.kinect = kin.kinect
    if variant in ("sensor", "sensor_recrop", *SENSOR_PARTS):
        synthetic = load_labelled("hands", SYNTHETIC, max_samples=cfg.max_samples, seed=params.seed)
        if variant != "sensor":
            return recropped(raw, synthetic, params.hands.ingest)
        return in_synthetic_crops(raw, synthetic)
    ingest_hands(params, raw, raw_dirs(generated_dir("hands"))[1], out)  # crops cut as ingest cuts every split
    return load_labelled("hands", out / "shards/hands/synthetic", max_samples=cfg.max_samples, seed=params.seed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=VARIANTS, action="append", help="default: all")
    ap.add_argument("--out", type=Path, required=True, help="scratch folder (emptied)")
    ap.add_argument("--params", default="params.yaml")
    args = ap.parse_args()
    params = load_params(args.params)
    cfg = params.hands.train_estimator
    set_threads(cfg.threads)
    real_val = load_labelled("hands", "data/shards/hands/real_val")
    for variant in args.variant or VARIANTS:
        out = args.out / variant
        shutil.rmtree(out, ignore_errors=True)
        data = training_set(variant, out, params)
        metrics = real_val_metrics("hands", data, real_val, cfg, params.seed, pick_device())
        print(json.dumps({"variant": variant, "n_train": len(data.keys), **metrics}), flush=True)


if __name__ == "__main__":
    main()
