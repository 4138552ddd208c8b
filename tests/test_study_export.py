"""`study --export`: the answers CSV, the report section and metrics on the refiner's MLflow run."""
from __future__ import annotations

import csv

import typer
from scipy.stats import binomtest
from typer.testing import CliRunner

from pipeline.params import Params
from pipeline.study import store
from pipeline.study.cli import study
from pipeline.study.config import load_study
from pipeline.study.demo import write_demo_shards
from pipeline.study.draw import draw

app = typer.Typer()
app.command()(study)


def answer_session(cfg, participant: str, choice_of) -> None:
    keys = {label: pool.keys for label, pool in cfg.pools.items()}
    while (t := store.current_trial(cfg.db, participant, cfg.n_trials,
                                    lambda seq, shown: draw(keys, shown, 0, participant, seq))) is not None:
        store.record_answer(cfg.db, t.trial_id, choice_of(t), 500)


def test_export_writes_csv_report_and_refiner_metrics(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("train_refiner")
    with mlflow.start_run(run_name="refiner-eyes") as run:
        pass
    write_demo_shards(tmp_path / "data" / "shards", "eyes", n=8, run_id=run.info.run_id)
    (tmp_path / "params.yaml").write_text("study:\n  trials: 5\n")
    cfg = load_study("eyes", Params(), n_trials=5)
    answer_session(cfg, "ann", lambda t: t.truth)        # always right
    answer_session(cfg, "bob", lambda t: "real")         # right on real images only

    result = CliRunner().invoke(app, ["eyes", "--export", "out/results.csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(tmp_path / "out" / "results.csv")))
    correct = sum(r["truth"] == r["answer"] for r in rows)
    assert len(rows) == 10 and {r["participant"] for r in rows} == {"ann", "bob"}
    report = (tmp_path / "reports" / "study-eyes.md").read_text()
    assert f"| this study | 10 | {correct} | {100 * correct / 10:.1f} % |" in report
    assert "| ann | 5 | 5 | 100.0 % |" in report
    metrics = mlflow.MlflowClient().get_run(run.info.run_id).data.metrics
    assert metrics["study_n"] == 10 and metrics["study_accuracy"] == correct / 10
    assert metrics["study_p_value"] == binomtest(correct, 10).pvalue


def test_study_without_shards_names_the_missing_split(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("seed: 0\n")
    result = CliRunner().invoke(app, ["eyes", "--export", "x.csv"])
    assert result.exit_code == 1 and "data/shards/eyes/real_val" in result.output
