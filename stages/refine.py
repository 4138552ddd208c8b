"""refine@<domain>: the synthetic shards through the trained refiner into annotated refined shards.

    python -m stages.refine eyes [--params params.yaml]

Reads models/refiner-<domain>.pt and data/shards/<domain>/synthetic/ (hands: synthetic_context/, the
context crops, refined whole and cut again around the refined depth: pipeline/refine/context.py); writes
data/shards/<domain>/refined/ (shards, manifest, dataset.json, README.md card, sample grid) and
metrics/refine-<domain>.json. Shards run in `<domain>.refine.workers` processes, or on the Dask
cluster at `<domain>.refine.dask_address`. A rerun after a kill redoes only the missing shards.
Fails when the annotation check's mean label shift exceeds `<domain>.refine.max_label_shift` (its
95th percentile `max_label_shift_p95`), the mean fraction of label points lost exceeds
`<domain>.refine.max_lost_fraction`, or (hands) the joints' local surface moved sideways more than
`max_joint_move_px` on average (`max_joint_move_px_p95` at the 95th percentile).
Synthetic data without the labels the check reads (a Kaggle gaze.h5: gaze, no landmarks) is refined
with the check recorded as not measured (metrics, dataset.json and card say why) and a warning.
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline import paths
from pipeline.errors import PipelineError
from pipeline.files import write_json
from pipeline.refine.split import refine_split
from pipeline.stagecli import stage_main, stage_parser


def metrics(result) -> dict:
    refined = [r for r in result.reports if r.refined]
    return {"samples": result.counts["written"], "shards": len(result.reports),
            "shards_refined": len(refined), "shards_kept": len(result.reports) - len(refined),
            "label_shift": result.check}


def lineage(result) -> dict:
    """Timings: per run, so kept out of the metrics file (which DVC hashes) and depended on by nothing."""
    n_refined = sum(r.n for r in result.reports if r.refined)
    return {"seconds": round(result.seconds, 3),
            "images_per_s": round(n_refined / result.seconds, 1) if n_refined else None}


def run(args, params) -> None:
    domain = args.domain
    data = Path(args.data_root) / "shards" / domain
    model = Path(args.model or paths.refiner(domain))
    result = refine_split(params, domain, data / paths.REFINE_SOURCE[domain], data / "refined", model)
    out = write_json(args.metrics or paths.refine_metrics(domain), metrics(result))
    write_json(paths.lineage(f"refine-{domain}", out.parent.parent), lineage(result))  # beside metrics/
    print(json.dumps({domain: metrics(result) | lineage(result)}))
    check = result.check
    if "not_measured" in check:  # own synthetic data without the labels the check reads (pipeline/refine/split.py)
        print(f"warning: {data / 'refined'}: annotation check not measured: {check['not_measured']}")
    elif not check["passed"]:
        move = check.get("move")
        moved = (f", {move['measure']} mean {move['mean']} / p95 {move['p95']} px (max_joint_move_px "
                 f"{move['threshold']} / _p95 {move['threshold_p95']})") if move else ""
        raise PipelineError(f"{data / 'refined'}: annotation check failed over {check['checked']} samples: "
                            f"{check['measure']} mean {check['mean']} / p95 {check['p95']} {check['unit']} "
                            f"(max_label_shift {check['threshold']} / _p95 {check['threshold_p95']}), "
                            f"{check['lost_measure']} {check['lost']} (max_lost_fraction {check['max_lost']})"
                            f"{moved}; see {out}; the shards are kept in {data / 'refined.failed'} "
                            f"(no card, no index: nothing to publish)")


def parser():
    ap = stage_parser(__doc__)
    ap.add_argument("--data-root", default="data", help="folder holding shards/<domain>/ (default: data)")
    ap.add_argument("--model", help="refiner file (default: models/refiner-<domain>.pt)")
    ap.add_argument("--metrics", help="metrics file (default: metrics/refine-<domain>.json)")
    return ap


if __name__ == "__main__":
    stage_main(__doc__, run, parser())
