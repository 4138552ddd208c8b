"""The flow's logic on a toy DVC repo (seconds, not minutes): DAG reading and selection, stage
tasks via `.fn()`, and one real run of `simgan-pipeline` with concurrent stages."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import tool_env
from flow_fixtures import TOY_DOT, make_toy_repo

REAL_SHAPED_DOT = """strict digraph {
"simulate@eyes";
"ingest@eyes";
"train_refiner@eyes";
"refine@eyes";
"train_estimator@eyes-synthetic";
"train_estimator@eyes-refined";
"evaluate@eyes-refined";
"report";
"simulate@eyes" -> "ingest@eyes";
"ingest@eyes" -> "train_refiner@eyes";
"ingest@eyes" -> "train_estimator@eyes-synthetic";
"train_refiner@eyes" -> "refine@eyes";
"refine@eyes" -> "train_estimator@eyes-refined";
"train_estimator@eyes-refined" -> "evaluate@eyes-refined";
"evaluate@eyes-refined" -> "report";
"train_estimator@eyes-synthetic" -> "report";
}"""
from flows import dag as dagmod
from flows import dvc_cli
from flows import pipeline_flow as pf
from flows.mlflow_links import ensure_store
from pipeline.errors import PipelineError

@pytest.fixture
def toy_repo(tmp_path) -> Path:
    return make_toy_repo(tmp_path / "toy")


# ---------------------------------------------------------------- DAG (pure)
def test_parse_dot_reads_stages_in_order_and_edges_as_upstream():
    dag = dagmod.parse_dot(TOY_DOT)
    assert dag.stages == ("make@eyes", "make@hands", "use@eyes-a", "use@hands-b", "report")
    assert dag.upstream["report"] == {"use@eyes-a", "use@hands-b"}
    assert dag.upstream["make@eyes"] == frozenset()


def test_topological_order_puts_producers_first_and_keeps_yaml_order_in_ties():
    order = dagmod.topological_order(dagmod.parse_dot(TOY_DOT))
    assert order == ["make@eyes", "make@hands", "use@eyes-a", "use@hands-b", "report"]


def test_select_one_domain_drops_the_other_and_stages_that_need_it():
    dag = dagmod.select(dagmod.parse_dot(TOY_DOT), ["eyes"])
    assert dag.stages == ("make@eyes", "use@eyes-a")  # report also reads hands: not runnable alone
    both = dagmod.select(dagmod.parse_dot(TOY_DOT), ["eyes", "hands"])
    assert "report" in both.stages


def test_select_rejects_an_unknown_domain():
    with pytest.raises(ValueError, match="feet"):
        dagmod.select(dagmod.parse_dot(TOY_DOT), ["feet"])


def test_stage_domain_of_foreach_matrix_and_plain_stages():
    assert dagmod.stage_domain("refine@eyes") == "eyes"
    assert dagmod.stage_domain("evaluate@hands-real_train") == "hands"
    assert dagmod.stage_domain("report") is None


def test_downstream_is_transitive():
    dag = dagmod.parse_dot(TOY_DOT)
    assert dagmod.downstream(dag, {"make@hands"}) == {"make@hands", "use@hands-b", "report"}


def test_ready_runs_the_critical_path_first():
    dag = dagmod.parse_dot(REAL_SHAPED_DOT)
    assert dagmod.chain_lengths(dag)["refine@eyes"] == 4  # refine -> estimator -> evaluate -> report
    after_refiners = {"simulate@eyes", "ingest@eyes", "train_refiner@eyes"}
    assert dagmod.ready(dag, after_refiners, after_refiners) == ["refine@eyes", "train_estimator@eyes-synthetic"]
    assert dagmod.ready(dag, set(), {"simulate@eyes"}) == []


def test_outcome_of_reads_dvc_messages():
    assert dvc_cli.outcome_of("a@x", ["Running stage 'a@x':", "> cmd"]) == "ran"
    assert dvc_cli.outcome_of("a@x", ["Stage 'a@x' didn't change, skipping"]) == "skipped"
    assert dvc_cli.outcome_of("a@x", ["Stage 'a@x' is cached - skipping run, checking out outputs"]) == "restored"


# ---------------------------------------------------------------- tasks via .fn() (no Prefect server)
def test_stage_tasks_run_skip_and_report_status(toy_repo):
    repo = str(toy_repo)
    dag = pf.plan_stages.fn(repo, ["eyes", "hands"])
    assert set(dag.stages) == {"make@eyes", "make@hands", "use@eyes-a", "use@eyes-b", "use@hands-a",
                               "use@hands-b", "report"}
    assert pf.run_stage.fn("make@eyes", repo, {}).outcome == "ran"
    assert (toy_repo / "out/make-eyes.txt").read_text() == "eyeseyeseyes"
    assert pf.run_stage.fn("make@eyes", repo, {}).outcome == "skipped"
    changed = pf.check_dvc_status.fn(repo, ["make@eyes", "make@hands"], must_be_clean=False)
    assert set(changed) == {"make@hands"}
    with pytest.raises(PipelineError, match="not clean"):
        pf.check_dvc_status.fn(repo, ["make@hands"], must_be_clean=True)


def test_a_failing_stage_raises_naming_it(toy_repo):
    (toy_repo / "params.yaml").write_text("eyes: {}\nhands:\n  n: 5\n")  # make@eyes: KeyError 'n'
    with pytest.raises(PipelineError, match=r"stage make@eyes failed"):
        dvc_cli.repro_stage("make@eyes", toy_repo)


def test_configure_params_merges_overrides_into_params_yaml(tiny_repo):
    pf.configure_params.fn(str(tiny_repo), None, {"eyes.train_estimator.lr": 0.5})
    params = yaml.safe_load((tiny_repo / "params.yaml").read_text())
    assert params["eyes"]["train_estimator"]["lr"] == 0.5
    assert params["hands"]["train_estimator"]["lr"] != 0.5


def test_ensure_store_creates_the_mlflow_store_once(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert ensure_store(tmp_path) is True
    assert (tmp_path / "mlflow.db").stat().st_size > 0
    assert ensure_store(tmp_path) is False


# ---------------------------------------------------------------- the real flow, once
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_flow_retries_a_failing_stage_resumes_and_matches_dvc_repro(tmp_path, prefect_home):
    flow_repo, repro_repo = make_toy_repo(tmp_path / "flow"), make_toy_repo(tmp_path / "repro")
    simgan = [str(Path(sys.executable).parent / "simgan"), "flow", "--repo", str(flow_repo), "--no-registry",
              "--max-parallel", "4", "--retries", "1"]
    good_params = (flow_repo / "params.yaml").read_text()
    (flow_repo / "params.yaml").write_text("eyes:\n  n: 3\nhands: {}\n")  # make@hands fails: no hands.n

    failed = subprocess.run(simgan, cwd=flow_repo, env=tool_env(), capture_output=True, text=True)
    log = failed.stdout + failed.stderr
    assert failed.returncode == 1, log[-6000:]
    assert "Retry 1/1 will start" in log and "Retries are exhausted" in log
    assert "failed stages ['make@hands']; not run (upstream failed) ['use@hands-a', 'use@hands-b', 'report']" in log
    assert (flow_repo / "out" / "use-eyes-b.txt").exists()  # the independent branch went on

    (flow_repo / "params.yaml").write_text(good_params)
    resumed = subprocess.run(simgan, cwd=flow_repo, env=tool_env(), capture_output=True, text=True)
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-6000:]
    assert "Unable to acquire lock" not in log
    assert "make@eyes: skipped" in log and "use@eyes-a: skipped" in log  # DVC's cache, through the flow
    assert "make@hands: ran" in log and "report: ran" in log
    # concurrency: in the resumed run, use@hands-a and use@hands-b overlapped
    events = (flow_repo / "events.log").read_text().splitlines()
    last_run = events[len(events) - 1 - events[::-1].index("start make@hands"):]
    assert last_run.index("start use@hands-b") < last_run.index("end use@hands-a") or \
        last_run.index("start use@hands-a") < last_run.index("end use@hands-b"), last_run

    assert dvc_cli.status(flow_repo) == {}
    subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=repro_repo, env=tool_env(), check=True,
                   capture_output=True)
    lock = lambda r: {k: v.get("outs") for k, v in yaml.safe_load((r / "dvc.lock").read_text())["stages"].items()}  # noqa: E731
    assert lock(flow_repo) == lock(repro_repo)
