"""The Prefect flow `simgan-pipeline`: the DVC DAG as tasks, with retries, logs and MLflow links.

Every stage is one task that runs `dvc repro --single-item <stage>` (flows/dvc_cli.py), so
DVC alone decides what is up to date and caches outputs: after a flow run `dvc status` is
clean and the outputs are those `dvc repro` gives. A stage is submitted once its upstream
stages succeeded (critical path first); independent ones (the two domains, the estimator
matrix) run side by side, at most `max_parallel` at once. Stages keep their own thread
settings, so a concurrent run writes the same bytes as a sequential `dvc repro`
(tests/test_e2e.py); on a 2-core CPU two compute-bound stages only share the cores, so the
gain is in the stages' start-up (imports), not their training.
"""
from __future__ import annotations

import concurrent.futures
import logging
import time
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from flows import dag as dagmod
from flows import dvc_cli
from flows.mlflow_links import FLOW_RUN_ENV, RunLink, ensure_store, markdown_table, runs_of_flow
from pipeline import profiles
from pipeline.errors import PipelineError
from pipeline.params import DOMAINS


def run_logger():
    """The task/flow run's logger; a plain logger when a task's `.fn()` is called directly (tests)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("simgan.flow")


@task(name="configure-params", cache_policy=NO_CACHE)
def configure_params(repo: str, profile: str | None, overrides: dict | None) -> None:
    """Write the profile and overrides into params.yaml, where DVC reads parameters."""
    profiles.apply(repo, profile, profiles.dotted_to_nested(overrides or {}))
    run_logger().info("params.yaml <- profile %s, overrides %s", profile or "-", overrides or "-")


@task(name="plan-stages", cache_policy=NO_CACHE)
def plan_stages(repo: str, domains: list[str]) -> dagmod.Dag:
    dag = dagmod.select(dagmod.parse_dot(dvc_cli.dag_dot(Path(repo))), domains)
    run_logger().info("%d stages for %s: %s", len(dag.stages), ", ".join(domains),
                      " -> ".join(dagmod.topological_order(dag)))
    return dag


@task(name="dvc-stage", task_run_name="{stage}", retries=1, retry_delay_seconds=5, cache_policy=NO_CACHE)
def run_stage(stage: str, repo: str, env: dict[str, str]) -> dvc_cli.StageResult:
    logger = run_logger()

    def log_line(line: str) -> None:
        if not dvc_cli.is_hint(line):
            logger.info("%s | %s", stage, line)

    result = dvc_cli.repro_stage(stage, Path(repo), on_line=log_line, env=dvc_cli.dvc_env(env))
    logger.info("%s: %s", stage, result.outcome)
    return result


@task(name="init-mlflow-store", cache_policy=NO_CACHE)
def init_mlflow_store(repo: str) -> None:
    if ensure_store(Path(repo)):
        run_logger().info("created the MLflow store before stages write to it concurrently")


@task(name="check-dvc-status", cache_policy=NO_CACHE)
def check_dvc_status(repo: str, stages: list[str], must_be_clean: bool) -> dict:
    changed = dvc_cli.status(Path(repo), stages)
    logger = run_logger()
    if not changed:
        logger.info("dvc status: %d stages up to date", len(stages))
    elif must_be_clean:
        raise PipelineError(f"{Path(repo) / 'dvc.lock'}: dvc status not clean after the run: {changed}")
    else:
        logger.info("dvc status: would run %s", ", ".join(changed))
    return changed


@task(name="link-mlflow-runs", cache_policy=NO_CACHE)
def link_mlflow_runs(repo: str, flow_run_id: str, started_ms: int) -> list[RunLink]:
    links = runs_of_flow(Path(repo), flow_run_id, started_ms)
    logger = run_logger()
    for link in links:
        logger.info("MLflow run %s/%s: %s", link.experiment, link.run_name, link.url)
    if links:
        create_markdown_artifact(markdown_table(links), key="simgan-mlflow-runs",
                                 description="MLflow runs produced by this flow run")
    return links


@task(name="register-models", cache_policy=NO_CACHE)
def register_models(repo: str, domains: list[str]) -> list[str]:
    from pipeline import registry  # MLflow import only when registering

    lines = registry.register_pipeline_models(Path(repo), domains)
    for line in lines:
        run_logger().info(line)
    return lines


def run_dag(dag: dagmod.Dag, repo: str, env: dict[str, str], max_parallel: int, retries: int) -> dict[str, str]:
    """Run every stage once its upstream stages succeeded, at most `max_parallel` at a time, the
    critical path first; stages after a failure are not run (the others go on, as `dvc repro -k`)."""
    stage_task = run_stage.with_options(retries=retries)
    futures, running, done, failed = {}, set(), set(), []
    with ThreadPoolTaskRunner(max_workers=max_parallel) as runner:
        while True:
            for stage in dagmod.ready(dag, done, set(futures))[: max_parallel - len(running)]:
                futures[stage] = runner.submit(stage_task, {"stage": stage, "repo": repo, "env": env},
                                               wait_for=[futures[u] for u in dag.upstream[stage]])  # lineage in the UI
                running.add(stage)
            if not running:
                break
            finished, _ = concurrent.futures.wait([futures[s].wrapped_future for s in running],
                                                  return_when=concurrent.futures.FIRST_COMPLETED)
            for stage in [s for s in running if futures[s].wrapped_future in finished]:
                running.discard(stage)
                futures[stage].wait()  # takes the final state from the finished thread, not the API
                if futures[stage].state.is_completed():
                    done.add(stage)
                else:
                    failed.append(stage)
    not_run = [s for s in dag.stages if s not in futures]
    if failed or not_run:
        raise PipelineError(f"{Path(repo) / 'dvc.yaml'}: failed stages {failed}; not run (upstream failed) {not_run}")
    return {s: futures[s].result().outcome for s in dag.stages}


@flow(name="simgan-pipeline", log_prints=True)
def simgan_pipeline(domains: list[str] = list(DOMAINS), profile: str | None = None,
                    overrides: dict | None = None, repo: str = ".", max_parallel: int = 2,
                    retries: int = 1, dry_run: bool = False, registry: bool = True) -> dict[str, str]:
    """Run the SimGAN DVC pipeline for `domains`.

    profile: profiles/<name>.yaml merged into params.yaml first; overrides: {"eyes.train_estimator.lr": 0.01}
    (also merged into params.yaml, like `dvc exp run -S`). dry_run: only report what `dvc status`
    says would run. Returns {stage: "ran" | "skipped" | "restored"}.
    """
    repo = str(Path(repo).resolve())
    started_ms = int(time.time() * 1000)
    dag = plan_stages(repo, list(domains))
    if dry_run:
        changed = check_dvc_status(repo, list(dag.stages), must_be_clean=False)
        return {s: ("would run" if s in changed else "up to date") for s in dag.stages}
    if profile or overrides:
        configure_params(repo, profile, overrides)
    run_id = str(flow_run.id or "local")
    if max_parallel > 1:
        init_mlflow_store(repo)
    outcomes = run_dag(dag, repo, {FLOW_RUN_ENV: run_id}, max_parallel, retries)
    check_dvc_status(repo, list(dag.stages), must_be_clean=True)
    link_mlflow_runs(repo, run_id, started_ms)
    if registry:
        register_models(repo, list(domains))
    print("stages: " + ", ".join(f"{s}={o}" for s, o in outcomes.items()))
    return outcomes
