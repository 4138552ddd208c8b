"""How much of the hand domain gap could a refiner close at all? (issue 6: "what limits them")

A refiner changes how a depth map looks, never the scene in it. The real-like hand frames differ
from the synthetic renders in both: the sensor (Kinect artefacts, coarse 2x2 depth blocks) and
the scene (an elbow and upper arm instead of a straight forearm, a body, a table, a wall). This
script re-renders the synthetic split's very hands (same seeds, poses and labels) with one part
of the gap added, ingests them with the same readers, trains the estimator with the default
budget and evaluates it on the real test split:

    sensor   the synthetic scene seen through the Kinect model: what a perfect refiner could give
    scene    the real-like arm and room, rendered clean: the part no refiner may touch

    python -m bench.hand_gap --variant sensor --out /tmp/hand_gap    # after `dvc repro ingest@hands`
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from pipeline.device import pick_device
from pipeline.estimate.data import load_labelled
from pipeline.estimate.evaluate import evaluate
from pipeline.estimate.model import estimator_config
from pipeline.estimate.train import fit, set_threads
from pipeline.formats import nyu
from pipeline.ingest_hands import ingest_hands
from pipeline.params import load_params
from pipeline.simulate import hands as sim
from pipeline.simulate.hands_render import draw_capsules, empty_zbuffer, to_depth_mm
from pipeline.simulate.hands_scene import draw_room, sample_room

VARIANTS = ("sensor", "scene")


def render_variant(variant: str, out_dir: Path, n: int, p, seed: int) -> None:
    """The synthetic split's frames 1..n (its generator stream, so its hands) with one gap part added."""
    stream, _, prefix, _ = sim.SPLITS["synthetic"]
    out_dir.mkdir(parents=True)
    xyz = []
    for k in range(-(-n // sim.UNIT)):
        rng = np.random.default_rng([seed, stream, k])
        points, scales = sim.sample_hands(rng, sim.UNIT, variant == "scene", p)
        room = sample_room(rng, 1, p.min_distance_mm, p.max_distance_mm) if variant == "scene" else None
        step = sim.REAL_STEP if variant == "sensor" else 1
        for i in range(min(sim.UNIT, n - k * sim.UNIT)):
            zbuf = empty_zbuffer(step)
            draw_capsules(zbuf, *sim.hand_capsules(points[i], scales[i]), step)
            if room is not None:
                draw_room(zbuf, room, points[i][sim.model.ARM_B])
            depth = sim.sense(zbuf, rng) if variant == "sensor" else to_depth_mm(zbuf)
            (out_dir / nyu.frame_name(k * sim.UNIT + i + 1, 1, prefix)).write_bytes(nyu.encode_depth(depth))
        xyz.append(points[:sim.UNIT, :nyu.N_JOINTS][: n - k * sim.UNIT])
    xyz = np.concatenate(xyz)
    nyu.write_joint_data(out_dir / "joint_data.mat", nyu.xyz_to_uvd(xyz), xyz)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=VARIANTS, required=True)
    ap.add_argument("--out", type=Path, required=True, help="scratch folder (emptied)")
    ap.add_argument("--params", default="params.yaml")
    args = ap.parse_args()
    params = load_params(args.params)
    shutil.rmtree(args.out, ignore_errors=True)
    raw = args.out / "raw" / "synthetic"
    render_variant(args.variant, raw, params.hands.simulate.n_synthetic, params.hands.simulate, params.seed)
    counts = ingest_hands(params, raw, Path("data/raw/hands/real"), args.out)
    cfg = params.hands.train_estimator
    set_threads(cfg.threads)
    data = load_labelled("hands", args.out / "shards/hands/synthetic", max_samples=cfg.max_samples, seed=params.seed)
    model, _ = fit(estimator_config("hands", cfg.width, data.images.shape[2:]), data, cfg, params.seed, pick_device())
    metrics, _ = evaluate("hands", model, load_labelled("hands", "data/shards/hands/real_test"), pick_device(),
                          cfg.precision)
    print(json.dumps({"variant": args.variant, "ingested": counts.get("synthetic"), **metrics}, default=str))


if __name__ == "__main__":
    main()
