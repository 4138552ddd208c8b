"""`simgan`: the pipeline for people. Run from the repository root.

\b
    simgan run                      # dvc repro: the whole pipeline (or `simgan run refine@eyes`)
    simgan flow --profile tiny      # the same DAG as a Prefect flow (retries, logs, MLflow links)
    simgan server                   # local Prefect server on 127.0.0.1:4200 (state in .state/prefect)
    simgan serve --cron "0 3 * * *" # the flow on a schedule, against that server
    simgan metrics                  # latest metrics table
    simgan ui                       # MLflow UI on 127.0.0.1:5000
    simgan profile tiny             # merge profiles/tiny.yaml into params.yaml
    simgan data check eyes          # dry run of ingest over your own dataset folders
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(help=__doc__, no_args_is_help=True, rich_markup_mode=None, add_completion=False)

STATE_DIR = Path(".state")
DEFAULT_API_URL = "http://127.0.0.1:4200/api"
Domains = Annotated[Optional[list[str]], typer.Option("--domain", "-d", help="eyes and/or hands (default: both)")]
Sets = Annotated[Optional[list[str]], typer.Option("--set", "-S", help="param override KEY=VALUE, e.g. eyes.train_estimator.lr=0.01")]
Profile = Annotated[Optional[str], typer.Option(help="profiles/<name>.yaml merged into params.yaml first")]


def fail(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg="red")
    raise typer.Exit(1)


def exec_tool(args: list[str], env: dict | None = None) -> None:
    """Run a command in the foreground (its own progress bars and Ctrl-C) and exit with its code."""
    bin_dir = str(Path(sys.executable).parent)  # the venv's dvc/mlflow/prefect, even when not activated
    full_env = {**os.environ, **(env or {}), "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
    try:
        raise typer.Exit(subprocess.call(args, env=full_env))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def prefect_env(api_url: str | None = None) -> dict[str, str]:
    """PREFECT_HOME inside the project's state dir (set before prefect is imported)."""
    env = {"PREFECT_HOME": os.environ.get("PREFECT_HOME") or str((STATE_DIR / "prefect").resolve()),
           # a first start migrates the sqlite DB: on a busy 2-core machine that exceeds the 20 s default.
           # Set here, before prefect is imported, for this process; stage processes that start a
           # server read the same default from pipeline/refine/on_dask.py (which imports prefect)
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS":
               os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": os.environ.get("PREFECT_SERVER_ANALYTICS_ENABLED", "false")}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    # Prefect does not create PREFECT_HOME's parents: on a fresh clone (no .state/) its first
    # start would wait out the startup timeout and fail
    Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    return env


def overrides_of(sets: list[str] | None) -> dict:
    from pipeline import profiles

    return profiles.parse_assignments(sets or [])


@app.command()
def run(stage: Annotated[Optional[str], typer.Argument(help="one stage, e.g. refine@eyes (default: all)")] = None,
        force: Annotated[bool, typer.Option(help="re-run even if up to date")] = False,
        dry: Annotated[bool, typer.Option(help="only print what would run")] = False) -> None:
    """Run the pipeline (or one stage and what it needs) with `dvc repro`."""
    exec_tool([sys.executable, "-m", "dvc", "repro", *([stage] if stage else []),
               *(["--force"] if force else []), *(["--dry"] if dry else [])])


@app.command()
def flow(domain: Domains = None, profile: Profile = None, set_: Sets = None,
         max_parallel: Annotated[int, typer.Option(min=1, help="stages running at once")] = 2,
         retries: Annotated[int, typer.Option(min=0, help="retries per stage")] = 1,
         dry_run: Annotated[bool, typer.Option(help="only report what dvc status says would run")] = False,
         registry: Annotated[bool, typer.Option(help="register models and move @champion in MLflow")] = True,
         repo: Annotated[Path, typer.Option(help="repository root")] = Path(".")) -> None:
    """Run the Prefect flow `simgan-pipeline` once (ephemeral Prefect unless PREFECT_API_URL is set)."""
    prefect_env()
    from flows.pipeline_flow import simgan_pipeline
    from pipeline.errors import PipelineError

    try:
        simgan_pipeline(domains=domain or ["eyes", "hands"], profile=profile, overrides=overrides_of(set_),
                        repo=str(repo), max_parallel=max_parallel, retries=retries, dry_run=dry_run,
                        registry=registry)
    except PipelineError as e:
        fail(str(e))


@app.command()
def serve(cron: Annotated[str, typer.Option(help='schedule, e.g. "0 3 * * *" (03:00 daily)')],
          name: Annotated[str, typer.Option(help="deployment name")] = "scheduled",
          domain: Domains = None, profile: Profile = None, set_: Sets = None,
          dry_run: Annotated[bool, typer.Option(help="scheduled runs only report dvc status")] = False,
          repo: Annotated[Path, typer.Option(help="repository root")] = Path("."),
          api_url: Annotated[Optional[str], typer.Option(help=f"Prefect API (default: $PREFECT_API_URL or {DEFAULT_API_URL})")] = None) -> None:
    """Serve the flow on a cron schedule against a Prefect server (start one with `simgan server`)."""
    prefect_env(api_url or os.environ.get("PREFECT_API_URL") or DEFAULT_API_URL)
    from flows.serve import serve_flow
    from pipeline.errors import PipelineError

    try:
        serve_flow(name=name, cron=cron, parameters={
            "domains": domain or ["eyes", "hands"], "profile": profile, "overrides": overrides_of(set_),
            "repo": str(repo.resolve()), "dry_run": dry_run})
    except PipelineError as e:
        fail(str(e))


@app.command()
def server(port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 4200) -> None:
    """Start a local Prefect server on 127.0.0.1 (state in .state/prefect)."""
    env = prefect_env()
    typer.echo(f"Prefect UI/API on http://127.0.0.1:{port} (PREFECT_HOME={env['PREFECT_HOME']}); for `simgan serve` "
               f"elsewhere: export PREFECT_API_URL=http://127.0.0.1:{port}/api")
    exec_tool([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)], env)


@app.command()
def ui(port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 5000) -> None:
    """Open the MLflow UI on 127.0.0.1 over the project's tracking store."""
    from pipeline.registry import tracking_uri

    uri = tracking_uri(Path("."))
    typer.echo(f"MLflow UI on http://127.0.0.1:{port} ({uri})")
    exec_tool([sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", "127.0.0.1",
               "--port", str(port)])


@app.command()
def metrics(directory: Annotated[Path, typer.Option(help="metrics folder")] = Path("metrics")) -> None:
    """Show the latest metrics (metrics/*.json, as `dvc metrics show` reads them) as tables."""
    from rich.console import Console

    from pipeline.metrics_table import metrics_tables

    tables = metrics_tables(sorted(directory.glob("*.json")))
    if not tables:
        fail(f"{directory}: no metrics yet (run `simgan run` first)")
    console = Console()
    for table in tables:
        console.print(table)


@app.command()
def profile(name: Annotated[Optional[str], typer.Argument(help="profiles/<name>.yaml")] = None,
            set_: Sets = None,
            list_: Annotated[bool, typer.Option("--list", help="list the profiles")] = False) -> None:
    """Merge a params profile (and --set overrides) into params.yaml, where DVC reads params."""
    from pipeline import profiles
    from pipeline.errors import PipelineError

    if list_ or (name is None and not set_):
        typer.echo("\n".join(profiles.available_profiles(".")) or "no profiles/*.yaml")
        return
    try:
        profiles.apply(".", name, overrides_of(set_))
    except PipelineError as e:
        fail(str(e))
    typer.echo(f"params.yaml <- {' + '.join(filter(None, [name and f'profiles/{name}.yaml', set_ and ' '.join(set_)]))}")


@app.command()
def register(domain: Domains = None) -> None:
    """Register the models in MLflow and move @champion where the evaluation improved."""
    from pipeline import registry

    for line in registry.register_pipeline_models(Path("."), domain or ["eyes", "hands"]):
        typer.echo(line)


data_app = typer.Typer(help="Your own datasets: check them before ingest.", no_args_is_help=True,
                       rich_markup_mode=None, add_completion=False)
app.add_typer(data_app, name="data")


@data_app.command("check")
def data_check(domain: Annotated[str, typer.Argument(help="eyes or hands")],
               params_file: Annotated[Path, typer.Option("--params", help="params file")] = Path("params.yaml"),
               set_: Sets = None) -> None:
    """Dry run of ingest@<domain> over the configured inputs: per split the format, records found,
    what would be written, rejects by reason, sample keys and label ranges. Exits 1 when ingest
    would fail (more than ingest.max_reject_fraction rejected, or a required split empty)."""
    from pipeline.errors import PipelineError
    from pipeline.ingest.check import run_check
    from pipeline.params import DOMAINS, load_params

    if domain not in DOMAINS:
        fail(f"unknown domain {domain!r}; expected one of {', '.join(DOMAINS)}")
    try:
        text, ok = run_check(domain, load_params(params_file, overrides_of(set_)))
    except PipelineError as e:  # ParamsError included: names the key
        fail(str(e))
    typer.echo(text)
    if not ok:
        raise typer.Exit(1)


try:  # the user study's own command (pipeline/study/cli.py), when present
    from pipeline.study.cli import study as _study
except ImportError:  # pragma: no cover - study not installed
    _study = None
if _study is not None:
    app.command("study")(_study)
