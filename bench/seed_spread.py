"""How much of a refined-vs-synthetic difference is the estimator's own seed?

Trains the estimator of train_estimator@<domain>-<data> with several seeds (the seed sets the
initial weights, the batch order and the `max_samples` subset; budget and params as the stage's) and evaluates each on the real_val split (settings are chosen there; real_test is read by evaluate alone), as evaluate@ does. The stages
use `seed` from params.yaml; this prints each seed's error and the mean and spread per set.

    dvc repro refine@hands && python -m bench.seed_spread --domain hands --seeds 0 1 2
    python -m bench.seed_spread --domain hands --data real_train synthetic refined --seeds 0 --set epochs=60
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bench.estimator_error import ERROR, HAND_IN_CROP, real_val_metrics
from pipeline.device import pick_device
from pipeline.estimate.data import load_labelled, training_paths
from pipeline.estimate.train import set_threads
from pipeline.params import load_params
from pipeline.profiles import parse_assignments


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--domain", choices=ERROR, required=True)
    ap.add_argument("--data", nargs="+", default=["synthetic", "refined"], help="training sets")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override <domain>.train_estimator.KEY (YAML value), e.g. a longer budget")
    args = ap.parse_args()
    over = parse_assignments(args.set)
    params = load_params(args.params, {args.domain: {"train_estimator": over}})
    cfg = params.domain(args.domain).train_estimator
    set_threads(cfg.threads)
    test = load_labelled(args.domain, Path("data/shards") / args.domain / "real_val")
    for data in args.data:
        split_dir, labels = training_paths("data", args.domain, data)
        errors = []
        for seed in args.seeds:
            train = load_labelled(args.domain, split_dir, labels_path=labels, max_samples=cfg.max_samples, seed=seed)
            metrics = real_val_metrics(args.domain, train, test, cfg, seed, pick_device())
            errors.append(metrics[ERROR[args.domain]])
            extra = {HAND_IN_CROP: round(metrics[HAND_IN_CROP], 3)} if HAND_IN_CROP in metrics else {}
            print(json.dumps({"data": data, "seed": seed, ERROR[args.domain]: round(errors[-1], 3), **extra}), flush=True)
        print(json.dumps({"data": data, "set": over, "seeds": args.seeds, "mean": round(float(np.mean(errors)), 3),
                          "sd": round(float(np.std(errors, ddof=1)), 3) if len(errors) > 1 else None}), flush=True)


if __name__ == "__main__":
    main()
