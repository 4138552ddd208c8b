"""Where study results go: a CSV of the answers, metrics on the refiner's MLflow run, and a
markdown section for the report."""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.shards import read_manifest
from pipeline.study.pages import pct, pval
from pipeline.study.stats import PAPER, Score, Summary
from pipeline.study.store import ANSWER_COLUMNS
from pipeline.tracking import tracking_uri

FIGURES = ("figures/study-trial.png", "figures/study-results.png")  # relative to reports/


def answers_csv(answers: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ANSWER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(answers)
    return out.getvalue()


def export_csv(answers: list[dict], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(answers_csv(answers))
    return path


def refiner_run_id(refined_dir: str | Path, lineage: str | Path) -> str:
    """The refiner's MLflow run: from the refined shards' `refined_by` (demo data), else the
    train_refiner lineage file of the refiner whose sha256 the shards name."""
    columns = read_manifest(refined_dir).to_pydict()
    ids = {i for i in columns.get("refined_by_mlflow_run_id", []) if i}
    if len(ids) > 1:
        raise PipelineError(f"{refined_dir}: samples refined by several MLflow runs {sorted(ids)}")
    if ids:
        return ids.pop()
    shas = set(columns.get("refined_by_refiner_sha256", []))
    if Path(lineage).exists():
        record = json.loads(Path(lineage).read_text())
        if record.get("mlflow_run_id") and shas == {record.get("refiner_sha256")}:
            return record["mlflow_run_id"]
    raise PipelineError(f"{refined_dir}: no refined_by.mlflow_run_id in the manifest and no {lineage} for its "
                        f"refiner: cannot tell which refiner run to log the study to")


def log_to_mlflow(summary: Summary, run_id: str) -> dict[str, float]:
    """Study metrics on the (finished) refiner run, plus the summary as an artifact."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from mlflow.entities import Metric
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri())
    try:
        client.get_run(run_id)
    except MlflowException:
        raise PipelineError(f"refiner run {run_id} is not in the MLflow store {tracking_uri()}") from None
    o = summary.overall
    metrics = {"study_n": o.n, "study_correct": o.correct, "study_accuracy": o.accuracy,
               "study_p_value": o.p_value, "study_participants": len(summary.per_participant)}
    client.log_batch(run_id, metrics=[Metric(k, float(v), 0, 0) for k, v in metrics.items()])
    client.log_text(run_id, json.dumps(asdict(summary), indent=2), "study/summary.json")
    return metrics


def _row(name: str, s: Score, p_note: str = "") -> str:
    return (f"| {name} | {s.n} | {s.correct} | {pct(s.accuracy)} | {pct(s.ci_low)} - {pct(s.ci_high)} "
            f"| {pval(s.p_value)}{p_note} |")


def report_markdown(summary: Summary, info: dict[str, str], figures: tuple[str, ...] = ()) -> str:
    o = summary.overall
    if o.n == 0:
        verdict = "No answers yet."
    elif o.p_value < 0.05:
        verdict = f"Participants told real from refined images apart ({pct(o.accuracy)}, p = {pval(o.p_value)})."
    else:
        verdict = (f"Participants could not tell real from refined images apart "
                   f"({pct(o.accuracy)}, p = {pval(o.p_value)}), as in the paper.")
    lines = [f"## Visual Turing test ({info['domain']})", "",
             f"{o.n} answers from {len(summary.per_participant)} participants: real images from "
             f"`{info['real_split']}` (data version {info['real_version']}), synthetic ones from `refined` "
             f"(data version {info['refined_version']}), equal odds. Two-sided exact binomial test against 50 %.",
             "", verdict, "",
             "| | answers | correct | accuracy | 95 % CI | p |", "|---|---|---|---|---|---|",
             _row("this study", o),
             _row("SimGAN paper (eyes)", summary.paper, f" (paper: {PAPER['p_value_reported']}, one-sided)"),
             "", "| shown \\ answered | real | synthetic |", "|---|---|---|"]
    lines += [f"| {t} | {row['real']} | {row['synthetic']} |" for t, row in summary.confusion.items()]
    lines += ["", "| participant | answers | correct | accuracy | 95 % CI | p |", "|---|---|---|---|---|---|"]
    lines += [_row(name, s) for name, s in summary.per_participant.items()]
    lines += [""] + [f"![{Path(f).stem}]({f})" for f in figures]
    return "\n".join(lines).rstrip() + "\n"


def write_report(summary: Summary, info: dict[str, str], path: str | Path) -> Path:
    """reports/study-<domain>.md, linking the screenshots that exist beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figures = tuple(f for f in FIGURES if (path.parent / f).exists())
    path.write_text(report_markdown(summary, info, figures))
    return path
