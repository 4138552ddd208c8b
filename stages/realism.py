"""realism@<domain>: how real do synthetic and refined images look, judged by networks trained here?

A classifier two-sample test (fresh CNN: real vs synthetic, real vs refined; held-out accuracy
and its one-sided binomial p-value against 50%) and KID on the features of the real-oracle
estimator (models/estimator-<domain>-real_train.pt). The real reference is real_holdout: other
frames of the refiner's own real_train people / sequences, which neither the refiner nor the oracle
saw; the floor is real_train against it. A second row ("cross_population") repeats the C2ST
against real_val (other people / rooms). Images only: labels are not used; real_test is not read.
Writes metrics/realism-<domain>.json and plots/realism-<domain>.csv (2-D PCA of the held-out
features, for the report), and logs them to MLflow (experiment realism).
With unlabelled real data there is no oracle: the C2ST still runs and KID is recorded as skipped;
with no real_holdout images at all the whole record is {"skipped": ...}.
"""
from __future__ import annotations

import json

import numpy as np

from pipeline import paths, tracking
from pipeline.device import pick_device
from pipeline.estimate.model import load_estimator
from pipeline.estimate.skip import skipped, skipped_checkpoint
from pipeline.estimate.train import set_threads
from pipeline.files import load_torch, write_csv, write_json
from pipeline.params import to_dict
from pipeline.realism import load_sets, measure_realism
from pipeline.errors import PipelineError
from pipeline.shards import read_dataset_info
from pipeline.stagecli import stage_main


def pca_rows(feats: dict[str, np.ndarray]) -> list[dict]:
    """2-D PCA of all held-out features together, one row per image with its set's name."""
    allf = np.concatenate(list(feats.values()))
    centred = allf - allf.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    vt *= np.sign(vt[:, :1] + 1e-12)  # fix SVD's sign ambiguity: deterministic plots
    xy = centred @ vt[:2].T
    names = np.concatenate([[k] * len(v) for k, v in feats.items()])
    return [{"set": str(n), "pc1": round(float(a), 5), "pc2": round(float(b), 5)} for n, (a, b) in zip(names, xy)]


def has_images(split_dir) -> bool:
    try:
        return read_dataset_info(split_dir)["counts"]["written"] > 0
    except PipelineError:
        return False


def run(args, params) -> None:
    import mlflow

    cfg = params.domain(args.domain).realism
    set_threads(cfg.threads)
    out = paths.realism_metrics(args.domain)
    if not has_images(paths.shards(args.domain, "real_holdout")):
        record = skipped("no real_holdout images to compare with", domain=args.domain)
        write_json(out, record)
        write_csv(paths.realism_pca(args.domain), [{"skipped": record["skipped"]}])
        print(json.dumps(record))
        return
    sets = load_sets(args.domain, "data/shards", cfg.max_samples, params.seed)
    oracle_path = paths.estimator(args.domain, "real_train")
    # unlabelled real data: train_estimator recorded a skip, so no KID features (the C2ST needs none)
    oracle = None if skipped_checkpoint(load_torch(oracle_path)) else \
        load_estimator(oracle_path, args.domain, sets["real"].shape[2:])[0]
    metrics, feats = measure_realism(sets["real"], sets["synthetic"], sets["refined"], oracle, cfg,
                                     params.seed, pick_device(), real_other=sets["real_other"],
                                     cross_population=sets["cross_population"])
    doc = {"domain": args.domain, **metrics}
    write_json(out, doc)
    write_csv(paths.realism_pca(args.domain), pca_rows(feats) if feats else [{"skipped": metrics["kid_skipped"]}])
    with tracking.start_run("realism", args.domain, data={s: paths.shards(args.domain, s) for s in ("real_holdout", "real_train", "real_val", "synthetic", "refined")},
                            tags={"domain": args.domain}):
        mlflow.log_params({**to_dict(cfg), "seed": params.seed})
        mlflow.log_metrics({f"c2st_accuracy_{k}": v["accuracy"] for k, v in metrics["c2st"].items()}
                           | {f"kid_{k}": v["mean"] for k, v in metrics["kid"].items()})
        mlflow.log_artifact(str(out))
    print(json.dumps(doc))


if __name__ == "__main__":
    stage_main(__doc__, run)
