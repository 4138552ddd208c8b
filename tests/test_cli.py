"""`simgan`: every command has --help; profile, metrics and run work on real files and DVC."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT, tool_env
from flow_fixtures import make_toy_repo
from pipeline.cli import app

COMMANDS = ["run", "flow", "serve", "server", "metrics", "ui", "profile", "register", "study"]
runner = CliRunner()


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert f" {command} " in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_profile_merges_into_params_yaml(tmp_path, monkeypatch):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    (tmp_path / "profiles" / "tiny.yaml").write_text((ROOT / "profiles" / "tiny.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["profile", "tiny", "--set", "eyes.train_estimator.lr=0.25"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "params.yaml").read_text()
    assert "lr: 0.25" in text and "epochs: 1" in text
    result = runner.invoke(app, ["profile", "--set", "eyes.nope=1"])
    assert result.exit_code == 1 and "eyes.nope" in result.output
    assert runner.invoke(app, ["profile", "--list"]).output.split() == ["tiny"]


def test_metrics_prints_one_table_per_stage(tmp_path, monkeypatch):
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "evaluate-eyes-refined.json").write_text(json.dumps({"pct_within_7deg": 61.25, "n": 12}))
    (tmp_path / "metrics" / "evaluate-eyes-synthetic.json").write_text(json.dumps({"pct_within_7deg": 40.5, "n": 12}))
    (tmp_path / "metrics" / "train_refiner-hands.json").write_text(json.dumps({"appearance": {"real": {"mean": 0.5}}}))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["metrics"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for text in ("metrics/evaluate-*.json", "eyes-refined", "eyes-synthetic", "pct_within_7deg", "61.25", "40.5",
                 "metrics/train_refiner-*.json", "appearance.real.mean"):
        assert text in result.output


def test_metrics_without_files_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["metrics"])
    assert result.exit_code == 1 and "no metrics yet" in result.output


def test_run_one_stage_runs_dvc_repro_for_it(tmp_path):
    repo = make_toy_repo(tmp_path / "toy")
    proc = subprocess.run([str(Path(sys.executable).parent / "simgan"), "run", "use@eyes-a"], cwd=repo,
                          env=tool_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo / "out" / "use-eyes-a.txt").read_text() == "EYESEYESEYES"
    assert not (repo / "out" / "make-hands.txt").exists()  # only what the stage needs


def test_flow_creates_the_prefect_home_on_a_fresh_clone(tmp_path, monkeypatch):
    """A fresh clone has no .state/: Prefect would not create .state/prefect and its start timed out."""
    from pipeline import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # prefect_env sets variables: keep them here
    for key in ("PREFECT_HOME", "PREFECT_API_URL"):
        monkeypatch.delenv(key, raising=False)
    env = cli.prefect_env()
    assert Path(env["PREFECT_HOME"]) == (tmp_path / ".state" / "prefect").resolve()
    assert (tmp_path / ".state" / "prefect").is_dir()
