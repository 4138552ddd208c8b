"""evaluate@<domain>-<data>: the estimator trained on <data>, measured on real_val and real_test.

eyes: mean angular error (deg), % within 7 deg, curve of % within d = 0..20 deg.
hands: mean 3D joint error (mm, after undoing the crop), % of joints within 5 px in the
640x480 frame (SimGAN Table 4), curve of % of joints within d mm.
Each headline figure comes with its bootstrap 95 % interval (pipeline/estimate/bootstrap.py:
fixed seed, so every estimator on a split gets the same resamples and the report's
refined/synthetic ratio is paired). The top-level figures are real_test's; "val" holds
real_val's, on which every setting is chosen. This stage is the only reader of real_test.
A checkpoint with several seeds (train_estimator.seeds > 1) adds their mean and sd ("seeds"), the
seeds' mean's interval over samples and seeds, and each seed's per-sample columns (`error_mm@seed1`...).
Writes metrics/evaluate-<domain>-<data>.json, plots/evaluate-<domain>-<data>.csv (the real_test
curve) and plots/evaluate-<domain>-<data>-samples.csv (per-sample errors of both splits, for the
paired ratio), and logs them to an MLflow run (experiment evaluate). Deterministic: same model
and splits, same bytes.
With no labelled real test split (unlabelled real data) the metrics file records
{"skipped": "no labelled real test split"} and the stage exits 0.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline import paths, tracking
from pipeline.device import pick_device
from pipeline.errors import PipelineError
from pipeline.estimate.bootstrap import mean_interval, seeds_mean_interval
from pipeline.estimate.data import load_labelled
from pipeline.estimate.evaluate import evaluate_samples
from pipeline.estimate.metrics import PER_SAMPLE, seed_column
from pipeline.estimate.model import load_estimator, seed_models
from pipeline.estimate.skip import skip_reason, skipped
from pipeline.estimate.train import set_threads
from pipeline.files import write_csv, write_json
from pipeline.shards import read_dataset_info
from pipeline.stagecli import stage_main, stage_parser


def has_samples(split_dir: Path) -> bool:
    """An ingested split with at least one sample (real_val is empty when no val people are set)."""
    try:
        return read_dataset_info(split_dir)["counts"]["written"] > 0
    except PipelineError:  # not ingested: nothing to evaluate
        return False


def measure(domain: str, models: list, split, device, precision: str) -> tuple[dict, list[dict], dict]:
    """Metrics (+ ci95 of each headline figure, + seeds' mean/sd/ci95) of models[0] on `split`, its curve and
    per-sample columns (+ those of seeds 1..N-1)."""
    metrics, curve, samples = evaluate_samples(domain, models[0], split, device, precision)
    metrics["ci95"] = {m: mean_interval(samples[col]) for m, col in PER_SAMPLE.items() if col in samples}
    if len(models) > 1:
        others = [evaluate_samples(domain, m, split, device, precision) for m in models[1:]]
        runs = [metrics] + [o[0] for o in others]
        per_seed = [samples] + [o[2] for o in others]
        metrics["seeds"] = {"n": len(models), **{
            k: {"mean": float(np.mean([r[k] for r in runs])), "sd": float(np.std([r[k] for r in runs], ddof=1)),
                "ci95": seeds_mean_interval(np.stack([s[col] for s in per_seed]))}
            for k, col in PER_SAMPLE.items() if k in metrics}}
        samples = samples | {seed_column(col, i): s[col] for i, s in enumerate(per_seed) if i for col in s}
    return metrics, curve, samples


def sample_rows(split_name: str, keys: list[str], samples: dict[str, np.ndarray]) -> list[dict]:
    return [{"split": split_name, "key": k, **{c: round(float(v[i]), 6) for c, v in samples.items()}}
            for i, k in enumerate(keys)]


def run(args, params) -> None:
    import mlflow

    cfg = params.domain(args.domain).train_estimator
    set_threads(cfg.threads)
    name = f"{args.domain}-{args.data}"
    if not args.split and (reason := skip_reason("data", args.domain)):  # unlabelled real data
        record = skipped(reason, domain=args.domain, training_data=args.data)
        write_json(paths.evaluate_metrics(args.domain, args.data), record)
        for path in (paths.evaluate_curve(args.domain, args.data), paths.evaluate_samples(args.domain, args.data)):
            write_csv(path, [{"skipped": reason}])
        print(json.dumps(record))
        return
    root = Path("data/shards") / args.domain
    split_dir = Path(args.split or root / "real_test")
    val_dir = Path(args.val_split or root / "real_val")
    model_path = Path(args.model or paths.estimator(args.domain, args.data))
    split = load_labelled(args.domain, split_dir)
    model, ckpt = load_estimator(model_path, args.domain, split.images.shape[2:])
    models = [model] + seed_models(ckpt)
    device = pick_device()
    metrics, curve, samples = measure(args.domain, models, split, device, cfg.precision)
    doc = {"domain": args.domain, "training_data": args.data, "split": split_dir.name, **metrics, "val": None}
    rows = sample_rows(split_dir.name, split.keys, samples)
    if has_samples(val_dir):
        val = load_labelled(args.domain, val_dir)
        val_metrics, _, val_samples = measure(args.domain, models, val, device, cfg.precision)
        doc["val"] = {"split": val_dir.name, **val_metrics}
        rows = sample_rows(val_dir.name, val.keys, val_samples) + rows
    out = paths.evaluate_metrics(args.domain, args.data)
    write_json(out, doc)
    curve_path = paths.evaluate_curve(args.domain, args.data)
    write_csv(curve_path, curve)
    samples_path = paths.evaluate_samples(args.domain, args.data)
    write_csv(samples_path, rows)
    with tracking.start_run("evaluate", name, data={split_dir.name: split_dir},
                            tags={"domain": args.domain, "training_data": args.data,
                                  "model_sha256": tracking.file_sha256(model_path)}):
        mlflow.log_metrics({k: v for k, v in metrics.items() if isinstance(v, float)}
                           | {f"val_{k}": v for k, v in (doc["val"] or {}).items() if isinstance(v, float)})
        for path in (out, curve_path, samples_path):
            mlflow.log_artifact(str(path))
    print(json.dumps(doc))


def parser():
    ap = stage_parser(__doc__)
    ap.add_argument("data", choices=paths.TRAINING_DATA, help="training set of the model to evaluate")
    ap.add_argument("--split", help="labelled test split dir (default: data/shards/<domain>/real_test)")
    ap.add_argument("--val-split", help="labelled val split dir (default: data/shards/<domain>/real_val)")
    ap.add_argument("--model", help="estimator checkpoint (default: models/estimator-<domain>-<data>.pt)")
    return ap


if __name__ == "__main__":
    stage_main(__doc__, run, parser())
