"""Does a longer-trained refiner help the estimator? (sized for a GPU)

For each number of adversarial rounds, trains R and D with the pipeline's SimGAN code and
`<domain>.train_refiner` (plus any --set overrides), refines the refine stage's source split
(paths.REFINE_SOURCE) with the final R by the stage's own functions (pipeline/refine/shard.py;
hands: the context crops, `hands.ingest.context_margin` x the cube, refined whole and cut again
around the refined depth, labels moved with the crop, pipeline/refine/context.py), runs its
annotation check, trains the
estimator on the refined crops (the stage's budget; params' seed, or each of --seeds) and
prints its error on the real_val split (settings are chosen there; real_test is read by evaluate
alone), beside the refiner's `gap_closed` appearance statistics on train_refiner's probe images
(pipeline/simgan/probe.py; eyes: also `gap_closed_equalized`, every set equalized as MPIIGaze's
patches are, bench/appearance_gap.py). No files, no MLflow.

    python -m bench.refiner_length --domain hands --steps 200 1000 3000 \\
        --set noise_channels=4 --set lam=4 --set hole_cost=0.1
    python -m bench.refiner_length --domain hands --steps 200 --seeds 0 1 2 --set holes=true
    python -m bench.refiner_length --domain eyes --steps 100 --seeds 0 1 2 --refiner-seeds 0 1 2

--refiner-seeds trains one R per seed (params' `seed`, which seeds R's and D's initial weights and
their batch streams) for each --steps: one R's appearance statistics swing with its seed.
"""
from __future__ import annotations

import argparse
import itertools
import json
import time
from contextlib import closing
from pathlib import Path

import numpy as np

from bench.estimator_error import ERROR, HAND_IN_CROP, real_val_metrics
from pipeline import paths
from pipeline.crops import normalize
from pipeline.crops.hands import far_value
from pipeline.refine import context
from pipeline.device import pick_device
from pipeline.estimate.data import LabelledSplit, encode_targets, load_labelled
from pipeline.params import load_params
from pipeline.profiles import parse_assignments
from pipeline.refine.annotation_check import summarize
from pipeline.refine.shard import batched, finish, refine_images
from pipeline.shards import read_samples
from pipeline.simgan import distributed
from pipeline.simgan.data import batch_stream, crop_shape
from pipeline.simgan.probe import Probe
from pipeline.simgan.run import build_simgan
from pipeline.simgan.trainer import Schedule


def train_gan(params, domain: str, shards: Path, world: distributed.World):
    """The SimGAN after train_refiner's schedule (its final_refiner is what the stage writes)."""
    cfg = params.domain(domain).train_refiner
    gan, schedule = build_simgan(params, domain, world), Schedule.of(cfg)
    kw = dict(workers=cfg.workers, seed=params.seed, pin_memory=world.device.type == "cuda")
    shape = crop_shape(params, domain)
    with closing(batch_stream(shards / "synthetic", domain, shape, cfg.batch_size, **kw)) as synthetic, \
            closing(batch_stream(shards / "real_train", domain, shape, cfg.batch_size, **kw)) as real:
        for step in range(schedule.total):
            gan.run_step(step, schedule, lambda: gan.prepare(next(synthetic)), lambda: gan.prepare(next(real)))
    gan.final_refiner.eval()
    return gan


def holes_cut(batch: list, out: list) -> tuple[int, int]:
    """(hand pixels R sent to the far plane, hand pixels) of hand context crops: the missing depth
    R adds (the Kinect model drops ~16 % of a clean render's depth pixels, bench/hand_gap.py)."""
    cut = hand = 0
    for s, refined in zip(batch, out):
        on_hand = context.to_model(s.image, s.meta) < context.BACKGROUND
        cut += int((on_hand & (refined == far_value(s.meta["crop"]))).sum())
        hand += int(on_hand.sum())
    return cut, hand


def refined_set(refiner, domain: str, samples: list, refine, device) -> tuple:
    """({key: (refined image, meta)} of `samples` refined as refine@<domain> refines them;
    per-sample annotation checks; hands: the fraction of hand pixels R turned into holes,
    `holes_cut`). Hands: `samples` are context crops, so crops and labels come out of the
    stage's re-crop (shard.finish)."""
    refined, checks, holes = {}, [], np.zeros(2, np.int64)
    for batch in batched(samples, refine.batch_size):
        out = refine_images(refiner, batch, domain, device, refine.precision)
        if domain == "hands":
            holes += holes_cut(batch, out)
        images, metas, shifts = finish(batch, out, domain, {})
        checks.append(shifts)
        refined.update({s.key: (image, meta) for s, image, meta in zip(batch, images, metas)})
    return refined, np.concatenate(checks), float(holes[0] / max(holes[1], 1)) if domain == "hands" else None


def training_split(domain: str, refined: dict, keep: LabelledSplit) -> LabelledSplit:
    """`keep`'s keys (the estimator's training subset) with their refined crops and labels."""
    if missing := [k for k in keep.keys if k not in refined]:
        raise SystemExit(f"{len(missing)} training keys are not in the refine source split, e.g. {missing[0]}")
    metas = [refined[k][1] for k in keep.keys]
    images = np.stack([normalize(domain, refined[k][0], meta) for k, meta in zip(keep.keys, metas)])[:, None]
    return LabelledSplit(keep.keys, images.astype(np.float32), encode_targets(domain, metas, "refined"), metas)


def errors(domain: str, metrics: dict) -> dict | float:
    """The domain's real_val error; hands: also over the crops that hold the hand (HAND_IN_CROP)."""
    if domain != "hands":
        return round(metrics[ERROR[domain]], 2)
    return {"all": round(metrics[ERROR[domain]], 2), "hand_in_crop": round(metrics[HAND_IN_CROP], 2)}


def seed_errors(domain: str, splits: dict, val: LabelledSplit, cfg_e, device) -> dict:
    """{seed: errors} of the estimator trained on each seed's split, and their mean over seeds."""
    per_seed = {seed: errors(domain, real_val_metrics(domain, split, val, cfg_e, seed, device))
                for seed, split in splits.items()}
    runs = list(per_seed.values())
    if len(runs) == 1:
        return runs[0]
    if isinstance(runs[0], dict):
        return {"seeds": per_seed, "mean": {k: round(float(np.mean([e[k] for e in runs])), 2) for k in runs[0]}}
    return {"seeds": per_seed, "mean": round(float(np.mean(runs)), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--domain", choices=ERROR, default="hands")
    ap.add_argument("--steps", nargs="+", type=int, default=[200, 1000, 3000], help="adversarial rounds")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override <domain>.train_refiner.KEY (YAML value)")
    ap.add_argument("--shards", type=Path, help="default: data/shards/<domain>")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--no-synthetic", action="store_true",
                    help="skip the synthetic-trained estimator (seeded: the same for every --set)")
    ap.add_argument("--seeds", nargs="+", type=int,
                    help="estimator seeds (initial weights, batch order, max_samples subset) trained on each "
                         "refined set, one R per --steps; default: params' seed")
    ap.add_argument("--refiner-seeds", nargs="+", type=int,
                    help="params' seed for R and D: one R per seed and --steps; default: params' seed")
    args = ap.parse_args()
    over = parse_assignments(args.set)
    shards = args.shards or Path("data/shards") / args.domain
    world = distributed.World(device=pick_device())
    base = load_params(args.params)
    cfg_e = base.domain(args.domain).train_estimator
    seeds = args.seeds or [base.seed]
    keeps = {seed: load_labelled(args.domain, shards / "synthetic", max_samples=cfg_e.max_samples, seed=seed)
             for seed in seeds}
    val = load_labelled(args.domain, shards / "real_val")
    samples = list(read_samples(shards / paths.REFINE_SOURCE[args.domain], by_node=False))
    refine = base.domain(args.domain).refine
    probe = Probe.read(shards / "synthetic", shards / "real_train", args.domain)
    if not args.no_synthetic:
        print(json.dumps({"synthetic": seed_errors(args.domain, keeps, val, cfg_e, world.device)}), flush=True)
    for steps, refiner_seed in itertools.product(args.steps, args.refiner_seeds or [base.seed]):
        start = time.perf_counter()
        params = load_params(args.params, {"seed": refiner_seed,
                                           args.domain: {"train_refiner": {**over, "steps": steps}}})
        gan = train_gan(params, args.domain, shards, world)
        seconds = time.perf_counter() - start
        scores = probe.evaluate(gan)
        gaps = {name: {k: round(v, 2) for k, v in scores[name].items()}
                for name in ("gap_closed", "gap_closed_equalized") if name in scores}
        refined, checks, holes = refined_set(gan.final_refiner, args.domain, samples, refine, world.device)
        check = summarize(args.domain, checks, refine.max_label_shift, refine.max_lost_fraction,
                          refine.max_label_shift_p95, refine.max_joint_move_px, refine.max_joint_move_px_p95)
        splits = {seed: training_split(args.domain, refined, keep) for seed, keep in keeps.items()}
        print(json.dumps({"set": over, "steps": steps, "refiner_seed": refiner_seed, "train_s": round(seconds, 1),
                          "refined": seed_errors(args.domain, splits, val, cfg_e, world.device),
                          "shift": check["mean"], "shift_p95": check["p95"], "lost": check["lost"],
                          "move": check.get("move"), "hand_pixels_cut": holes, "check_passed": check["passed"],
                          "equalized_share": scores.get("equalized_share"), **gaps}),
              flush=True)


if __name__ == "__main__":
    main()
