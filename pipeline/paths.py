"""Where each stage writes: the one table of output paths that stages, the report and dvc.yaml share.

All paths are relative to the repository root (pass `root` to place them elsewhere, e.g. in tests).
tests/test_paths.py checks that every stage's `outs`, `metrics` and `plots` in dvc.yaml are the ones
listed by `stage_outputs` here, so a renamed output cannot leave the two disagreeing.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.params import DOMAINS

TRAINING_DATA = ("synthetic", "refined", "real_train")  # what an estimator can be trained on
INGEST_SPLITS = ("synthetic", "synthetic_context", "real_train", "real_holdout", "real_val", "real_test")
# what refine@<domain> feeds the refiner: hands refine context crops and cut them again (refine/context.py)
REFINE_SOURCE = {"eyes": "synthetic", "hands": "synthetic_context"}

DATA = Path("data")
FIGURES = Path("reports/figures")


def raw(domain: str, root: str | Path = ".") -> Path:
    """simulate's own output folder (datasets the user brings may sit beside it, never inside)."""
    return Path(root) / DATA / "raw" / domain / "generated"


def shards(domain: str, split: str, root: str | Path = ".") -> Path:
    return Path(root) / DATA / "shards" / domain / split


def labels(domain: str, root: str | Path = ".") -> Path:
    """The oracle labels of the real training split, kept apart from its shards."""
    return Path(root) / DATA / "labels" / domain


def labelled_counts(domain: str, root: str | Path = ".") -> Path:
    """{split: samples that carry labels}, written by ingest beside the oracle labels (numbers only):
    train_estimator reads whether real_test is labelled here, without reading real_test."""
    return labels(domain, root) / "labelled.json"


def simulate_preview(domain: str, root: str | Path = ".") -> Path:
    return Path(root) / FIGURES / f"simulate-{domain}.png"


def refiner(domain: str, root: str | Path = ".") -> Path:
    return Path(root) / "models" / f"refiner-{domain}.pt"


def refiner_metrics(domain: str, root: str | Path = ".") -> Path:
    return Path(root) / "metrics" / f"train_refiner-{domain}.json"


def refiner_grid(domain: str, root: str | Path = ".") -> Path:
    return Path(root) / FIGURES / f"refiner-{domain}-grid.png"


def refiner_checkpoint(domain: str, root: str | Path = ".") -> Path:
    """The resumable training state (not a DVC output: deleted once the refiner is written)."""
    return Path(root) / "checkpoints" / f"train_refiner-{domain}.pt"


def lineage(stage: str, root: str | Path = ".") -> Path:
    """Per-run facts (MLflow run id, timings): beside the outputs, never a dependency of anything."""
    return Path(root) / "lineage" / f"{stage}.json"


def refine_metrics(domain: str, root: str | Path = ".") -> Path:
    return Path(root) / "metrics" / f"refine-{domain}.json"


def estimator(domain: str, data: str, root: str | Path = ".") -> Path:
    return Path(root) / "models" / f"estimator-{domain}-{data}.pt"


def estimator_history(domain: str, data: str, root: str | Path = ".") -> Path:
    return Path(root) / "plots" / f"train_estimator-{domain}-{data}.csv"


def evaluate_metrics(domain: str, data: str, root: str | Path = ".") -> Path:
    return Path(root) / "metrics" / f"evaluate-{domain}-{data}.json"


def evaluate_curve(domain: str, data: str, root: str | Path = ".") -> Path:
    return Path(root) / "plots" / f"evaluate-{domain}-{data}.csv"


def evaluate_samples(domain: str, data: str, root: str | Path = ".") -> Path:
    """Per-sample errors: the report's paired intervals."""
    return Path(root) / "plots" / f"evaluate-{domain}-{data}-samples.csv"


def realism_metrics(domain: str, root: str | Path = ".") -> Path:
    return Path(root) / "metrics" / f"realism-{domain}.json"


def realism_pca(domain: str, root: str | Path = ".") -> Path:
    return Path(root) / "plots" / f"realism-{domain}.csv"


def report(root: str | Path = ".") -> Path:
    return Path(root) / "reports" / "report.md"


def report_figures(root: str | Path = ".") -> Path:
    return Path(root) / FIGURES / "results"


def stage_outputs(stage: str) -> list[str]:
    """Every path dvc.yaml lists under `stage`'s outs, metrics and plots (stage names as `dvc stage list`
    prints them: `refine@eyes`, `evaluate@eyes-refined`)."""
    name, _, item = stage.partition("@")
    if name == "report":
        paths = [report(), report_figures()]
    elif name == "simulate":
        paths = [raw(item), simulate_preview(item)]
    elif name == "ingest":
        paths = [*(shards(item, s) for s in INGEST_SPLITS), labels(item)]
    elif name == "train_refiner":
        paths = [refiner(item), refiner_metrics(item), refiner_grid(item)]
    elif name == "refine":
        paths = [shards(item, "refined"), refine_metrics(item)]
    elif name in ("train_estimator", "evaluate"):
        domain, data = item.split("-", 1)
        paths = ([estimator(domain, data), estimator_history(domain, data)] if name == "train_estimator"
                 else [evaluate_metrics(domain, data), evaluate_curve(domain, data), evaluate_samples(domain, data)])
    elif name == "realism":
        paths = [realism_metrics(item), realism_pca(item)]
    else:
        raise KeyError(f"no outputs known for stage {stage!r}")
    return [p.as_posix() for p in paths]


def all_stages() -> list[str]:
    """The pipeline's stage names, in DAG order."""
    per_domain = lambda s: [f"{s}@{d}" for d in DOMAINS]  # noqa: E731
    matrix = lambda s: [f"{s}@{d}-{t}" for d in DOMAINS for t in TRAINING_DATA]  # noqa: E731
    return [*per_domain("simulate"), *per_domain("ingest"), *per_domain("train_refiner"), *per_domain("refine"),
            *matrix("train_estimator"), *matrix("evaluate"), *per_domain("realism"), "report"]
