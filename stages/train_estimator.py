"""train_estimator@<domain>-<data>: train the gaze / hand-pose estimator on one training set.

<data> is synthetic, refined or real_train (the oracle: real training images with the labels
kept apart in data/labels/<domain>/real_train.parquet, which the refiner never reads). Every set
gets the same budget, seed and initial weights (<domain>.train_estimator in params.yaml).
Writes models/estimator-<domain>-<data>.pt and plots/train_estimator-<domain>-<data>.csv, and
logs params, the loss curve and the state_dict to MLflow (experiment train_estimator).
With train_estimator.seeds = N > 1 the checkpoint also holds seeds 1..N-1 (for the seed spread).
With no labelled real test split (unlabelled real data) nothing could measure the estimator: the
stage writes a checkpoint and a curve that only record {"skipped": "no labelled real test split"}
and exits 0 (pipeline/estimate/skip.py).
"""
from __future__ import annotations


from pipeline import tracking
from pipeline.device import pick_device
from pipeline import paths
from pipeline.estimate.data import load_labelled, training_paths
from pipeline.estimate.model import estimator_config, save_estimator
from pipeline.estimate.train import fit, set_threads
from pipeline.files import write_csv
from pipeline.estimate.skip import skip_reason, skipped
from pipeline.files import save_torch
from pipeline.params import to_dict
from pipeline.stagecli import stage_main, stage_parser


def run(args, params) -> None:
    import mlflow

    cfg = params.domain(args.domain).train_estimator
    if reason := skip_reason("data", args.domain):  # unlabelled real data: nothing could measure it
        record = skipped(reason, domain=args.domain, training_data=args.data)
        save_torch({**record, "config": record}, paths.estimator(args.domain, args.data))
        write_csv(paths.estimator_history(args.domain, args.data), [{"skipped": reason}])
        print(f"train_estimator@{args.domain}-{args.data}: skipped ({reason})")
        return
    set_threads(cfg.threads)
    split_dir, labels = training_paths("data", args.domain, args.data)
    data = load_labelled(args.domain, split_dir, labels_path=labels, max_samples=cfg.max_samples, seed=params.seed)
    config = estimator_config(args.domain, cfg.width, data.images.shape[2:], cfg.equalize)
    name = f"{args.domain}-{args.data}"
    model_path = paths.estimator(args.domain, args.data)
    with tracking.start_run("train_estimator", name, data={args.data: split_dir},
                            tags={"domain": args.domain, "training_data": args.data}):
        mlflow.log_params({**to_dict(cfg), "seed": params.seed, "n_train": len(data.keys), **config})
        model, history = fit(config, data, cfg, params.seed, pick_device(),
                             on_epoch=lambda e, row: mlflow.log_metrics(
                                 {"train_loss": row["train_loss"], "lr": row["lr"]}, step=e))
        # seeds > 1 (estimator_seeds): the same budget again from other initial weights and batch orders
        others = [fit(config, data, cfg, params.seed + k, pick_device())[0] for k in range(1, cfg.seeds)]
        # no run id in the file: identical inputs give a byte-identical model (MLflow keeps the link)
        save_estimator(model_path, model, config, other_seeds=others, data=args.data, n_train=len(data.keys),
                       history=history)
        mlflow.log_artifact(str(model_path), "model")
    write_csv(paths.estimator_history(args.domain, args.data), history)
    print(f"{model_path}: {len(data.keys)} samples, {cfg.epochs} epochs, final loss {history[-1]['train_loss']:.4f}")


def parser():
    ap = stage_parser(__doc__)
    ap.add_argument("data", choices=paths.TRAINING_DATA, help="training set")
    return ap


if __name__ == "__main__":
    stage_main(__doc__, run, parser())
