"""What the report reads: stage outputs (metrics/*.json, plots/*.csv) and a few samples per split.

Missing files come back as None, so a partial pipeline still gets a report with "n/a" cells.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from pipeline.crops import normalize
from pipeline.errors import PipelineError
from pipeline.images import to_uint8
from pipeline.paths import TRAINING_DATA
from pipeline.params import DOMAINS
from pipeline.shards import list_shards, read_samples

TEXT_COLUMNS = ("set", "split", "key")


def read_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def read_csv(path: Path) -> list[dict] | None:
    """Rows of a plot CSV; None when missing or when the stage recorded that it skipped."""
    if not path.exists():
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and "skipped" in rows[0]:
        return None
    return [{k: (v if k in TEXT_COLUMNS else float(v)) for k, v in row.items()} for row in rows]


def collect(root: Path) -> dict:
    """Every stage output the report uses, keyed by domain (and training set); None where missing.
    A stage that skipped (unlabelled real data) is None too, its reason in out["skipped"]."""
    out = {"evaluate": {}, "curves": {}, "history": {}, "realism": {}, "pca": {}, "samples": {}, "skipped": {},
           "machine": {}}

    def result(stage: str, doc: dict | None):
        if doc and "skipped" in doc:
            out["skipped"][stage] = doc["skipped"]
            return None
        return doc

    for d in DOMAINS:
        out["realism"][d] = result(f"realism@{d}", read_json(root / f"metrics/realism-{d}.json"))
        out["pca"][d] = read_csv(root / f"plots/realism-{d}.csv")
        out["machine"][d] = (read_json(root / f"metrics/train_refiner-{d}.json") or {}).get("machine")
        for t in TRAINING_DATA:
            out["evaluate"][d, t] = result(f"evaluate@{d}-{t}", read_json(root / f"metrics/evaluate-{d}-{t}.json"))
            out["curves"][d, t] = read_csv(root / f"plots/evaluate-{d}-{t}.csv")
            out["samples"][d, t] = read_csv(root / f"plots/evaluate-{d}-{t}-samples.csv")
            out["history"][d, t] = read_csv(root / f"plots/train_estimator-{d}-{t}.csv")
    return out


def display(domain: str, sample) -> np.ndarray:
    """A shard image as uint8 for viewing: the model-space image mapped to 0..255."""
    return to_uint8(normalize(domain, sample.image, sample.meta))


def sample_columns(shards: Path, domain: str, k: int = 6) -> dict[str, list[np.ndarray]] | None:
    """The first k synthetic samples, their refined versions (same keys), and k real_val samples
    (real_test is read by the evaluate stage alone)."""
    try:
        syn = []
        for s in read_samples(list_shards(shards / domain / "synthetic")[:1], by_node=False):
            syn.append(s)
            if len(syn) == k:
                break
        keys = {s.key for s in syn}
        ref = {s.key: s for s in read_samples(shards / domain / "refined", by_node=False) if s.key in keys}
        real = []
        for s in read_samples(list_shards(shards / domain / "real_val")[:1], by_node=False):
            real.append(s)
            if len(real) == k:
                break
    except PipelineError:
        return None
    return {"synthetic": [display(domain, s) for s in syn],
            "refined": [display(domain, ref[s.key]) for s in syn if s.key in ref],
            "real": [display(domain, s) for s in real]}
