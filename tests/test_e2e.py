"""End to end, no mocks: real `dvc repro`, real MLflow, the real Prefect flow, on the tiny profile.

In temp git copies of this repository: `dvc repro` runs every stage of dvc.yaml for both
domains and writes every declared metrics file; a second `dvc repro` finds everything up to
date; changing one estimator param re-runs only the stages downstream of it; the Prefect flow
in a fresh copy leaves a clean `dvc status` and the same outputs. The harness reads the stage
list from `dvc dag`, so it covers whatever stages dvc.yaml has.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import clone_repo, make_tiny_repo, tool_env
from flows import dag as dagmod
from flows.dvc_cli import RAN
from pipeline.params import DOMAINS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# outputs that legitimately differ between two runs: they carry an MLflow run id (refiner
# checkpoint; refined samples' meta.json `refined_by`) or a wall-clock measure (metrics keys below)
TIMING_KEY = re.compile(r"(per_s|_s|seconds|_sec|time|duration)$")


def run_dvc(repo: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=tool_env(),
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"dvc {' '.join(args)} failed in {repo}:\n{(proc.stdout + proc.stderr)[-4000:]}"
    return proc


def dvc(repo: Path, *args: str) -> str:
    proc = run_dvc(repo, *args)
    return proc.stdout + proc.stderr


def ran_stages(output: str) -> set[str]:
    return {m[1] for line in output.splitlines() if (m := RAN.match(line))}


def lock_outs(repo: Path) -> dict[str, str]:
    """{output path: md5} from dvc.lock."""
    stages = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    return {o["path"]: o["md5"] for s in stages.values() for o in s.get("outs", [])}


def declared_metrics(repo: Path) -> dict[str, dict]:
    """Every metrics file dvc.yaml declares -> its content (`dvc metrics show`), errors included."""
    shown = json.loads(run_dvc(repo, "metrics", "show", "--json").stdout)
    return shown[""]["data"]


def without_timings(doc):
    if isinstance(doc, dict):
        return {k: without_timings(v) for k, v in doc.items() if not TIMING_KEY.search(k)}
    return doc


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    """One copy of the work tree on the tiny profile; every test clones it, so all run the same code."""
    return make_tiny_repo(tmp_path_factory.mktemp("e2e") / "snapshot")


@pytest.fixture(scope="module")
def reproduced(snapshot, tmp_path_factory) -> tuple[Path, str]:
    repo = clone_repo(snapshot, tmp_path_factory.mktemp("e2e") / "repo")
    return repo, dvc(repo, "repro")


@pytest.fixture(scope="module")
def dag(reproduced) -> dagmod.Dag:
    return dagmod.parse_dot(dvc(reproduced[0], "dag", "--dot"))


def test_repro_runs_every_stage_for_both_domains_and_writes_all_metrics(reproduced, dag):
    repo, output = reproduced
    assert ran_stages(output) == set(dag.stages)
    assert {dagmod.stage_domain(s) for s in dag.stages} >= set(DOMAINS)
    metrics = declared_metrics(repo)
    assert metrics, "dvc.yaml declares no metrics"
    for path, entry in metrics.items():
        assert "error" not in entry, f"{path}: {entry.get('error')}"
        assert entry["data"], f"{path}: empty metrics"
    for stage in dag.stages:  # each domain-tagged metrics-writing stage wrote its own file
        name, _, item = stage.partition("@")
        if name in {"train_refiner", "refine", "evaluate", "realism"}:
            assert f"metrics/{name}-{item}.json" in metrics, f"{stage}: no metrics/{name}-{item}.json"


def test_tiny_run_follows_the_protocol_and_keeps_its_counts(reproduced):
    """Not "the metrics exist": the figures the report rests on have the protocol's shape. Every split
    keeps in = written + rejected; val and test are both evaluated, each headline figure inside its
    own bootstrap interval, over exactly the samples of its split; the report states the protocol and
    shows val and test rows; realism judges against the refiner's own population with a floor."""
    repo, _ = reproduced
    for domain in DOMAINS:
        written = {}
        for split in ("synthetic", "real_train", "real_holdout", "real_val", "real_test"):
            info = json.loads((repo / "data/shards" / domain / split / "dataset.json").read_text())
            counts = info["counts"]
            assert counts["in"] == counts["written"] + counts["rejected"], (domain, split, counts)
            written[split] = counts["written"]
        assert written["real_val"] > 0 and written["real_test"] > 0 and written["real_train"] > 0
        for data in ("synthetic", "refined", "real_train"):
            doc = json.loads((repo / f"metrics/evaluate-{domain}-{data}.json").read_text())
            assert doc["split"] == "real_test" and doc["n"] == written["real_test"]
            assert doc["val"]["split"] == "real_val" and doc["val"]["n"] == written["real_val"]
            for figures in (doc, doc["val"]):
                assert figures["ci95"], (domain, data)
                for key, (lo, hi) in figures["ci95"].items():
                    assert lo <= figures[key] <= hi and hi - lo < 100, (domain, data, key, lo, hi)
            rows = (repo / f"plots/evaluate-{domain}-{data}-samples.csv").read_text().splitlines()[1:]
            assert len(rows) == written["real_val"] + written["real_test"]
        realism = json.loads((repo / f"metrics/realism-{domain}.json").read_text())
        assert set(realism["c2st"]) == {"synthetic", "refined", "real"}
        for r in realism["c2st"].values():
            assert r["ci95"][0] <= r["accuracy"] <= r["ci95"][1]
        assert set(realism["cross_population"]["c2st"]) == {"synthetic", "refined", "real"}
    report = (repo / "reports/report.md").read_text()
    assert "Protocol: settings are chosen on real_val" in report and "real_test was read once" in report
    assert "| gaze (eyes) | mean angular error (deg) | val | " in report
    assert "| hand pose (hands) | mean 3D joint error (mm) | test | " in report
    assert "within population" in report and "across populations" in report


def test_second_repro_is_up_to_date(reproduced, dag):
    repo, _ = reproduced
    output = dvc(repo, "repro")
    assert ran_stages(output) == set()
    assert "Data and pipelines are up to date." in dvc(repo, "status")


def test_readme_cli_on_a_fresh_clone_gives_the_same_outputs(snapshot, reproduced, tmp_path):
    """The README's `simgan flow --profile tiny` and `simgan metrics` in a fresh clone, with no
    PREFECT_HOME from the test (the CLI must create .state/prefect itself): the flow's outputs are
    byte for byte those of `dvc repro` (no run ids or timings in cached outputs), and status is clean."""
    repo, _ = reproduced
    fresh = clone_repo(snapshot, tmp_path / "flow")
    simgan = str(Path(sys.executable).parent / "simgan")
    env = {k: v for k, v in tool_env().items() if not k.startswith("PREFECT_")}
    proc = subprocess.run([simgan, "flow", "--profile", "tiny"], cwd=fresh, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert (fresh / ".state" / "prefect").is_dir()
    shown = subprocess.run([simgan, "metrics"], cwd=fresh, env=env, capture_output=True, text=True)
    assert shown.returncode == 0 and "metrics/evaluate-*.json" in shown.stdout, shown.stderr
    assert "Data and pipelines are up to date." in dvc(fresh, "status")
    expected, got = lock_outs(repo), lock_outs(fresh)
    assert got.keys() == expected.keys()
    differing = {p for p in expected if got[p] != expected[p]}
    assert not {p for p in differing if not p.endswith(".json")}, differing
    for path in sorted(p for p in differing if p.endswith(".json")):
        assert without_timings(json.loads((fresh / path).read_text())) == \
            without_timings(json.loads((repo / path).read_text())), path


def test_changing_one_estimator_param_reruns_only_its_downstream(reproduced, dag):
    repo, _ = reproduced
    estimators = {s for s in dag.stages if s.startswith("train_estimator@eyes")}
    assert estimators
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["eyes"]["train_estimator"]["lr"] *= 2
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    output = dvc(repo, "repro")
    ran = ran_stages(output)
    assert ran == dagmod.downstream(dag, estimators)
    assert not {s for s in ran if dagmod.stage_domain(s) == "hands"}
    assert not {s for s in ran if s.split("@")[0] in {"simulate", "ingest", "train_refiner", "refine"}}
    # realism's KID features come from the real-oracle estimator, so it is downstream of the change
    assert "realism@eyes" in ran and "report" in ran
