"""Unlabelled real data: when a domain's real side has no labels (a plain folder of crops, an h5
without gaze, NYU frames without joint_data.mat), there is nothing to measure an estimator on.
The refiner and the refined dataset do not need labels and run as usual; the estimator and
evaluate stages write a record that says why they did not run, and exit 0.

Whether real_test is labelled is read from the counts ingest writes beside the oracle labels
(pipeline.paths.labelled_counts), so no stage but evaluate reads real_test itself.
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline import paths

NO_LABELLED_TEST = "no labelled real test split"


def labelled_counts(data_root: str | Path, domain: str) -> dict[str, int] | None:
    """{split: samples with labels} as ingest counted them; None before an ingest that wrote them."""
    path = Path(data_root) / "labels" / domain / paths.labelled_counts(domain).name
    return json.loads(path.read_text()) if path.exists() else None


def skip_reason(data_root: str | Path, domain: str) -> str | None:
    """Why the estimator and evaluate stages of `domain` cannot run, or None when they can."""
    counts = labelled_counts(data_root, domain)
    return NO_LABELLED_TEST if counts is not None and not counts.get("real_test") else None


def skipped(reason: str, **fields) -> dict:
    """The record a skipped stage writes in place of its result."""
    return {**fields, "skipped": reason}


def skipped_checkpoint(ckpt) -> str | None:
    """The reason recorded in a skipped estimator's checkpoint, else None."""
    return ckpt.get("skipped") if isinstance(ckpt, dict) and "state_dict" not in ckpt else None
