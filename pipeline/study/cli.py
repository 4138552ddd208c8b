"""`study`: serve the visual Turing test for a domain, or (--export) write its results.

    simgan study eyes                      # http://127.0.0.1:8765, answers in .state/study/eyes.db
    simgan study eyes --export results.csv # CSV + reports/study-eyes.md + metrics on the refiner's run
    python -m pipeline.study eyes          # the same without the project CLI
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline import paths
from pipeline.errors import PipelineError
from pipeline.params import ParamsError, load_params

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def study(
    domain: Annotated[str, typer.Argument(help="eyes or hands")],
    export: Annotated[Path | None, typer.Option(help="write the answers to this CSV, the report section "
                                                "and MLflow metrics, then exit (no server)")] = None,
    port: Annotated[int | None, typer.Option(help="default: params study.port")] = None,
    host: Annotated[str | None, typer.Option(help="default: params study.host (127.0.0.1)")] = None,
    trials: Annotated[int | None, typer.Option(min=1, help="session length; default: params study.trials")] = None,
    real: Annotated[Path | None, typer.Option(help="real split dir; default data/shards/<domain>/<study.real_split>")] = None,
    refined: Annotated[Path | None, typer.Option(help="refined split dir (any dataset version, e.g. from "
                                                 "`dvc get`); default data/shards/<domain>/refined")] = None,
    db: Annotated[Path | None, typer.Option(help="answers database; default .state/study/<domain>.db")] = None,
    report: Annotated[Path | None, typer.Option(help="with --export; default reports/study-<domain>.md")] = None,
    mlflow: Annotated[bool, typer.Option(help="with --export: log metrics on the refiner's MLflow run")] = True,
    params: Annotated[Path, typer.Option(help="params file")] = Path("params.yaml"),
) -> None:
    """Run the paper's user study: real or refined, one image at a time, answers in sqlite."""
    from pipeline.study.config import load_study  # late: keeps `--help` fast

    try:
        p = load_params(params)
        cfg = load_study(domain, p, real, refined, db, trials)
        if export is not None:
            export_results(cfg, export, report or Path(f"reports/study-{domain}.md"), mlflow)
        else:
            serve(cfg, host or p.study.host, port or p.study.port)
    except (PipelineError, ParamsError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None


def export_results(cfg, csv_path: Path, report: Path, log_mlflow: bool) -> None:
    from pipeline.study import results, stats, store

    answers = store.read_answers(cfg.db)
    summary = stats.summarize(answers)
    typer.echo(f"wrote {results.export_csv(answers, csv_path)} and {results.write_report(summary, cfg.info, report)}")
    o = summary.overall
    typer.echo(f"{o.n} answers, {o.correct} correct ({o.accuracy:.1%}), p = {o.p_value:.3g} (two-sided)")
    if log_mlflow and o.n:
        refined_dir = cfg.pools["synthetic"].split_dir
        run_id = results.refiner_run_id(refined_dir, paths.lineage(f"train_refiner-{cfg.domain}"))
        results.log_to_mlflow(summary, run_id)
        typer.echo(f"logged study metrics to the refiner's MLflow run {run_id}")


def serve(cfg, host: str, port: int) -> None:
    import uvicorn

    from pipeline.study.server import create_app

    if host not in LOOPBACK:
        typer.echo(f"warning: serving on {host}, reachable from other machines", err=True)
    app = create_app(cfg, allowed_hosts=LOOPBACK if host in LOOPBACK else ("*",))
    typer.echo(f"study of {cfg.domain}: http://{host}:{port}/  (results: /results; answers in {cfg.db})")
    uvicorn.run(app, host=host, port=port, log_level="warning")
