"""Schedules and deployments against a real Prefect server (`simgan server` on a free 127.0.0.1
port, private PREFECT_HOME):
- `simgan serve --cron` creates the scheduled deployment; a run triggered through the API is
  picked up by the serving process, runs the real flow on a toy DVC repo and completes with a
  clean `dvc status`;
- the team route: `prefect deploy --all` from prefect.yaml creates the nightly deployment."""
from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, copy_worktree, tool_env
from flow_fixtures import make_toy_repo
from flows import dvc_cli

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
CRON = "0 3 * * *"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, proc: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what}: process exited {proc.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(Exception):
            if result := check():
                return result
        time.sleep(1.0)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def background(args: list[str], env: dict, cwd: Path, log: Path):
    with open(log, "w") as out:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)  # serve pauses its schedule, the server shuts down cleanly
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(api url, env for clients) of a real `prefect server start` via `simgan server`."""
    tmp = tmp_path_factory.mktemp("prefect")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = tool_env(PREFECT_HOME=str(tmp / "home"), PREFECT_API_URL=api, PREFECT_SERVER_UI_ENABLED="false",
                   PREFECT_SERVER_ANALYTICS_ENABLED="false")
    log = tmp / "server.log"
    with background([str(BIN / "simgan"), "server", "--port", str(port)], env, tmp, log) as proc:
        wait_until(lambda: httpx.get(f"{api}/health", timeout=5).status_code == 200, 240, "the Prefect server",
                   proc, log)
        yield api, env


@contextlib.contextmanager
def api_client(api: str):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        yield client


def test_served_schedule_runs_a_flow_triggered_through_the_api(server, tmp_path):
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    api, env = server
    repo = make_toy_repo(tmp_path / "toy")
    log = tmp_path / "serve.log"
    serve_cmd = [str(BIN / "simgan"), "serve", "--cron", CRON, "--name", "test", "--repo", str(repo), "--dry-run"]
    with background(serve_cmd, env, repo, log) as serve, api_client(api) as client:
        deployment = wait_until(lambda: client.read_deployment_by_name("simgan-pipeline/test"), 180,
                                "the scheduled deployment", serve, log)
        assert [s.schedule.cron for s in deployment.schedules] == [CRON]
        assert deployment.parameters["dry_run"] is True
        # triggered through the API: a full (not dry) run of the toy pipeline
        run = client.create_flow_run_from_deployment(deployment.id, parameters={"dry_run": False, "max_parallel": 4})
        final = wait_until(lambda: (r := client.read_flow_run(run.id)).state.is_final() and r, 300,
                           "the flow run", serve, log)
        if not final.state.is_completed():
            logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])), limit=200)
            pytest.fail(f"{final.state}\n" + "\n".join(entry.message for entry in logs)[-4000:])
    assert (repo / "out" / "report.json").exists()  # it ran the toy DAG, not the scheduled dry run
    assert dvc_cli.status(repo) == {}


def test_prefect_yaml_deploys_the_nightly_deployment(server, tmp_path):
    api, env = server
    clone = tmp_path / "clone"
    clone.mkdir()
    copy_worktree(ROOT, clone)
    prefect = [str(BIN / "prefect"), "--no-prompt"]
    subprocess.run([*prefect, "work-pool", "create", "simgan", "--type", "process"], cwd=clone, env=env,
                   check=True, capture_output=True)
    proc = subprocess.run([*prefect, "deploy", "--all"], cwd=clone, env={**env, "SIMGAN_REPO": str(clone)},
                          capture_output=True, text=True)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    with api_client(api) as client:
        deployment = client.read_deployment_by_name("simgan-pipeline/nightly")
    assert [s.schedule.cron for s in deployment.schedules] == [CRON]
    assert deployment.entrypoint == "flows/pipeline_flow.py:simgan_pipeline"
    assert deployment.pull_steps == [{"prefect.deployments.steps.set_working_directory": {"directory": str(clone)}}]
