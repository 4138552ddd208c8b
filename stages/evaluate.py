"""evaluate@<domain>-<data>: the estimator trained on <data>, measured on the labelled real test split.

eyes: mean angular error (deg), % within 7 deg, curve of % within d = 0..20 deg.
hands: mean 3D joint error (mm, after undoing the crop), % of joints within 5 px in the
640x480 frame (SimGAN Table 4), curve of % of joints within d mm.
Writes metrics/evaluate-<domain>-<data>.json and plots/evaluate-<domain>-<data>.csv, and logs
both to an MLflow run (experiment evaluate). Deterministic: same model and split, same bytes.
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline import tracking
from pipeline.device import pick_device
from pipeline.estimate.outputs import write_csv, write_json
from pipeline.estimate.data import TRAINING_DATA, load_labelled
from pipeline.estimate.evaluate import evaluate
from pipeline.estimate.model import load_estimator
from pipeline.estimate.train import set_threads
from pipeline.stagecli import stage_main, stage_parser


def run(args, params) -> None:
    import mlflow

    cfg = params.domain(args.domain).train_estimator
    set_threads(cfg.threads)
    name = f"{args.domain}-{args.data}"
    split_dir = Path(args.split or f"data/shards/{args.domain}/real_test")
    model_path = Path(args.model or f"models/estimator-{name}.pt")
    split = load_labelled(args.domain, split_dir)
    model, _ = load_estimator(model_path, args.domain, split.images.shape[2:])
    metrics, curve = evaluate(args.domain, model, split, pick_device(), cfg.precision)
    doc = {"domain": args.domain, "training_data": args.data, "split": split_dir.name, **metrics}
    out = Path(f"metrics/evaluate-{name}.json")
    write_json(out, doc)
    curve_path = Path(f"plots/evaluate-{name}.csv")
    write_csv(curve_path, curve)
    with tracking.start_run("evaluate", name, data={split_dir.name: split_dir},
                            tags={"domain": args.domain, "training_data": args.data,
                                  "model_sha256": tracking.file_sha256(model_path)}):
        mlflow.log_metrics({k: v for k, v in metrics.items() if isinstance(v, float)})
        mlflow.log_artifact(str(out))
        mlflow.log_artifact(str(curve_path))
    print(json.dumps(doc))


def parser():
    ap = stage_parser(__doc__)
    ap.add_argument("data", choices=TRAINING_DATA, help="training set of the model to evaluate")
    ap.add_argument("--split", help="labelled split dir (default: data/shards/<domain>/real_test)")
    ap.add_argument("--model", help="estimator checkpoint (default: models/estimator-<domain>-<data>.pt)")
    return ap


if __name__ == "__main__":
    stage_main(__doc__, run, parser())
