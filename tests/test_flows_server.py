"""The schedule against a real Prefect server: `prefect server start` on a free 127.0.0.1 port
(private PREFECT_HOME), `simgan serve --cron` creates the scheduled deployment, a run is
triggered through the API, the serving process runs the real flow on a toy DVC repo and the
run completes with a clean `dvc status`."""
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

from conftest import tool_env
from flow_fixtures import make_toy_repo
from flows import dvc_cli

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
CRON = "0 3 * * *"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: process exited {proc.returncode}:\n{log.read_text()[-4000:] if log else ''}")
        with contextlib.suppress(Exception):
            if result := check():
                return result
        time.sleep(1.0)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-4000:] if log else ''}")


@contextlib.contextmanager
def background(args: list[str], env: dict, cwd: Path, log: Path):
    with open(log, "w") as out:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)  # let serve pause its schedule and the server shut down cleanly
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_scheduled_deployment_runs_through_a_real_server(tmp_path, prefect_home):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = tool_env(PREFECT_API_URL=api, PREFECT_SERVER_UI_ENABLED="false")
    repo = make_toy_repo(tmp_path / "toy")
    bin_dir = Path(sys.executable).parent
    server_cmd = [str(bin_dir / "simgan"), "server", "--port", str(port)]
    serve_cmd = [str(bin_dir / "simgan"), "serve", "--cron", CRON, "--name", "test", "--repo", str(repo), "--dry-run"]

    with background(server_cmd, env, repo, tmp_path / "server.log") as server:
        wait_until(lambda: httpx.get(f"{api}/health", timeout=5).status_code == 200, 240, "the Prefect server",
                   server, tmp_path / "server.log")
        with background(serve_cmd, env, repo, tmp_path / "serve.log") as serve, \
                temporary_settings(updates={PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            deployment = wait_until(lambda: client.read_deployment_by_name("simgan-pipeline/test"), 180,
                                    "the scheduled deployment", serve, tmp_path / "serve.log")
            assert [s.schedule.cron for s in deployment.schedules] == [CRON]
            assert deployment.parameters["dry_run"] is True
            # the API trigger: a full (not dry) run of the toy pipeline
            run = client.create_flow_run_from_deployment(deployment.id, parameters={"dry_run": False, "max_parallel": 4})
            final = wait_until(lambda: (r := client.read_flow_run(run.id)).state.is_final() and r, 300,
                               "the flow run", serve, tmp_path / "serve.log")
            if not final.state.is_completed():
                logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])), limit=200)
                pytest.fail(f"{final.state}\n" + "\n".join(log.message for log in logs)[-4000:])
    assert (repo / "out" / "report.json").exists()  # the run went through the toy DAG, not a dry run
    assert dvc_cli.status(repo) == {}
