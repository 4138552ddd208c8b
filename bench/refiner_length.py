"""Does a longer-trained refiner help the estimator? (sized for a GPU)

For each number of adversarial rounds, trains R and D with the pipeline's SimGAN code and
`<domain>.train_refiner` (plus any --set overrides), refines the synthetic split with the final
R, runs the refine stage's annotation check, trains the estimator on the refined crops (the
stage's budget and seed) and prints its error on the real_val split (settings are chosen there; real_test is read by evaluate alone). No files, no MLflow.

    python -m bench.refiner_length --domain hands --steps 200 1000 3000 \\
        --set noise_channels=4 --set lam=4 --set hole_cost=0.1
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import yaml

from bench.estimator_error import ERROR, real_val_metrics
from pipeline.refine.annotation_check import label_shift, summarize
from pipeline.crops import normalize
from pipeline.device import pick_device
from pipeline.estimate.data import LabelledSplit, load_labelled
from pipeline.params import load_params
from pipeline.refine.shard import batched, refine_images
from pipeline.shards import read_samples
from pipeline.simgan import distributed
from pipeline.simgan.data import batch_stream, crop_shape
from pipeline.simgan.run import build_simgan
from pipeline.simgan.trainer import Schedule


def train_final_refiner(params, domain: str, shards: Path, world: distributed.World):
    cfg = params.domain(domain).train_refiner
    gan, schedule = build_simgan(params, domain, world), Schedule.of(cfg)
    kw = dict(workers=cfg.workers, seed=params.seed, pin_memory=world.device.type == "cuda")
    shape = crop_shape(params, domain)
    synthetic = batch_stream(shards / "synthetic", domain, shape, cfg.batch_size, **kw)
    real = batch_stream(shards / "real_train", domain, shape, cfg.batch_size, **kw)
    for step in range(schedule.total):
        gan.run_step(step, schedule, lambda: gan.prepare(next(synthetic)), lambda: gan.prepare(next(real)))
    return gan.final_refiner.eval()


def refined_set(refiner, domain: str, samples: list, keep: LabelledSplit, precision: str, device) -> tuple:
    """(the refined crops of `keep`'s keys as a LabelledSplit, per-sample annotation checks)."""
    refined, checks = {}, []
    for batch in batched(samples, 512):
        out = refine_images(refiner, batch, domain, device, precision)
        checks.append(label_shift(domain, np.stack([s.image for s in batch]), np.stack(out), [s.meta for s in batch]))
        refined.update({s.key: o for s, o in zip(batch, out)})
    images = np.stack([normalize(domain, refined[k], m) for k, m in zip(keep.keys, keep.metas)])[:, None]
    return LabelledSplit(keep.keys, images.astype(np.float32), keep.targets, keep.metas), np.concatenate(checks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--domain", choices=ERROR, default="hands")
    ap.add_argument("--steps", nargs="+", type=int, default=[200, 1000, 3000], help="adversarial rounds")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override <domain>.train_refiner.KEY (YAML value)")
    ap.add_argument("--shards", type=Path, help="default: data/shards/<domain>")
    ap.add_argument("--params", default="params.yaml")
    args = ap.parse_args()
    over = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.set)}
    shards = args.shards or Path("data/shards") / args.domain
    world = distributed.World(device=pick_device())
    base = load_params(args.params)
    cfg_e = base.domain(args.domain).train_estimator
    keep = load_labelled(args.domain, shards / "synthetic", max_samples=cfg_e.max_samples, seed=base.seed)
    test = load_labelled(args.domain, shards / "real_val")
    samples = list(read_samples(shards / "synthetic", by_node=False))
    refine = base.domain(args.domain).refine
    err = real_val_metrics(args.domain, keep, test, cfg_e, base.seed, world.device)[ERROR[args.domain]]
    print(json.dumps({"synthetic": round(err, 2)}), flush=True)
    for steps in args.steps:
        start = time.perf_counter()
        params = load_params(args.params, {args.domain: {"train_refiner": {**over, "steps": steps}}})
        refiner = train_final_refiner(params, args.domain, shards, world)
        seconds = time.perf_counter() - start
        data, checks = refined_set(refiner, args.domain, samples, keep, refine.precision, world.device)
        check = summarize(args.domain, checks, refine.max_label_shift, refine.max_lost_fraction,
                          refine.max_label_shift_p95, refine.max_joint_move_px, refine.max_joint_move_px_p95)
        err = real_val_metrics(args.domain, data, test, cfg_e, base.seed, world.device)[ERROR[args.domain]]
        print(json.dumps({"set": over, "steps": steps, "train_s": round(seconds, 1), "refined": round(err, 2),
                          "shift": check["mean"], "shift_p95": check["p95"], "lost": check["lost"],
                          "move": check.get("move"), "check_passed": check["passed"]}), flush=True)


if __name__ == "__main__":
    main()
