"""train_refiner end to end on small shards: outputs, MLflow, guards, ablations, resume after kill."""
import json
import multiprocessing
import os
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import mlflow.pytorch
import pytest
import torch
from mlflow.tracking import MlflowClient

from pipeline.device import machine
from pipeline.errors import PipelineError
from pipeline.params import load_params
from pipeline.simgan.checkpoint import load_checkpoint, params_hash
from pipeline.simgan.io import load_refiner
from pipeline.simgan.distributed import World
from pipeline.simgan.run import Outputs, build_simgan, run_identity, train_refiner
from pipeline.simgan.trainer import Schedule
from pipeline.simgan.window import check_finite
from support.params import tiny_refiner, write_params
from support.samples import write_eye_shards, write_hand_shards

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return write_eye_shards(tmp_path_factory.mktemp("simgan") / "data")


@pytest.fixture(autouse=True)
def one_thread():
    """The test machine's cores are shared: one intra-op thread avoids OpenMP spin contention."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def tracking(tmp_path_factory, monkeypatch):
    uri = f"sqlite:///{tmp_path_factory.getbasetemp() / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path_factory.getbasetemp())  # artifacts (./mlruns) stay out of the repo
    return uri


def test_train_writes_outputs_and_logs_to_mlflow(data_root, tmp_path):
    params = load_params(write_params(tmp_path / "params.yaml", train_refiner=tiny_refiner()))
    out = Outputs.for_domain("eyes", tmp_path)
    result = train_refiner(params, "eyes", data_root=data_root, outputs=out)

    metrics = json.loads(out.metrics.read_text())
    assert metrics["steps"] == 3 + 2 + 4
    assert {"loss_adv", "loss_reg", "loss_d", "d_acc_real", "d_acc_refined", "mean_abs_change"} <= set(metrics)
    assert metrics["mean_abs_change"] == pytest.approx(result.metrics["mean_abs_change"])
    # eyes: the appearance gap also with every set equalized (detail apart from tone)
    assert set(metrics["gap_closed_equalized"]) == set(metrics["gap_closed"]) >= {"gradient", "high_freq"}
    assert out.grid.stat().st_size > 1000 and not out.checkpoint.exists()

    refiner, info = load_refiner(out.model, "eyes", params)
    assert info["steps"] == 9 and info["config"]["height"] == 35 and len(info["sha256"]) == 64
    saved = torch.load(out.model, weights_only=True)
    assert set(saved) == {"state_dict", "config", "steps"}  # no run id or time: same training, same bytes
    lineage = json.loads(out.lineage.read_text())
    assert lineage["refiner_sha256"] == info["sha256"]

    run = MlflowClient().get_run(lineage["mlflow_run_id"])
    assert run.data.params["lam"] == "0.5" and run.data.tags["git_commit"]
    assert {"data.synthetic", "data.real_train"} <= set(run.data.tags)
    assert {"gap_closed_high_freq", "gap_closed_equalized_high_freq"} <= set(run.data.metrics)
    history = MlflowClient().get_metric_history(run.info.run_id, "acc_real")
    assert [m.step for m in history] == [4, 6, 8, 9]
    artifacts = {a.path for a in MlflowClient().list_artifacts(run.info.run_id, "outputs")}
    assert "outputs/refiner-eyes.pt" in artifacts and "outputs/refiner-config.json" in artifacts
    grids = [a.path for a in MlflowClient().list_artifacts(run.info.run_id, "grids")]
    assert grids == ["grids/step-000004.png", "grids/step-000008.png"]
    versions = MlflowClient().search_model_versions("name='refiner-eyes'")
    assert run.info.run_id in {v.run_id for v in versions}
    # the registered refiner is a torch.export graph (no pickle), still fully convolutional
    version = next(v for v in versions if v.run_id == run.info.run_id).version
    registered = mlflow.pytorch.load_model(f"models:/refiner-eyes/{version}")
    assert type(registered).__name__ == "GraphModule"  # a pickled model would come back as a Refiner
    x = torch.rand(3, 1, 48, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(registered(x), refiner.float()(x), atol=1e-5)


def test_same_inputs_give_the_same_weights_and_metrics(data_root, tmp_path):
    params = load_params(write_params(tmp_path / "params.yaml", train_refiner=tiny_refiner(steps=2)))
    runs = [Outputs.for_domain("eyes", tmp_path / name) for name in ("a", "b")]
    for out in runs:
        train_refiner(params, "eyes", data_root=data_root, outputs=out)
    a, b = (torch.load(out.model, weights_only=True) for out in runs)
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    assert runs[0].metrics.read_bytes() == runs[1].metrics.read_bytes()
    assert runs[0].grid.read_bytes() == runs[1].grid.read_bytes()


def test_hands_train_on_depth_crops_of_the_params_size(tmp_path):
    data_root = write_hand_shards(tmp_path / "data", size=32)
    params = load_params(write_params(tmp_path / "params.yaml", "hands", hand_size=32,
                                      train_refiner=tiny_refiner(steps=2, holes=True, hole_blobs=True)))
    out = Outputs.for_domain("hands", tmp_path)
    train_refiner(params, "hands", data_root=data_root, outputs=out)
    refiner, info = load_refiner(out.model, "hands", params)
    assert (info["config"]["height"], info["config"]["width"]) == (32, 32)
    assert info["config"]["holes"] and info["config"]["hole_blobs"]
    saved = torch.load(out.model, weights_only=True)
    del saved["config"]["hole_blobs"]                 # a file from before the option: one draw
    torch.save(saved, out.model)
    with pytest.raises(PipelineError, match="hole_blobs: file has False, params want True"):
        load_refiner(out.model, "hands", params)
    with pytest.raises(PipelineError, match="height: file has 32, params want 48"):
        load_refiner(out.model, "hands", load_params(write_params(tmp_path / "p48.yaml", "hands", hand_size=48,
                                                                train_refiner=tiny_refiner())))


def test_eyes_tone_head_trains_and_reports_its_share(data_root, tmp_path):
    params = load_params(write_params(tmp_path / "params.yaml", train_refiner=tiny_refiner(steps=2, tone=True)))
    out = Outputs.for_domain("eyes", tmp_path)
    train_refiner(params, "eyes", data_root=data_root, outputs=out)
    refiner, info = load_refiner(out.model, "eyes", params)
    share = json.loads(out.metrics.read_text())["equalized_share"]
    assert info["config"]["tone"] and 0 < share < 1 and share == pytest.approx(float(refiner.equalized_share))
    with pytest.raises(PipelineError, match="tone: file has True, params want False"):
        load_refiner(out.model, "eyes", load_params(write_params(tmp_path / "p.yaml", train_refiner=tiny_refiner())))


def test_load_refiner_rejects_other_architecture(data_root, tmp_path):
    params = load_params(write_params(tmp_path / "params.yaml", train_refiner=tiny_refiner()))
    out = Outputs.for_domain("eyes", tmp_path)
    with pytest.raises(PipelineError, match="no refiner file"):
        load_refiner(out.model, "eyes", params)
    out.model.parent.mkdir(parents=True)
    torch.save({"state_dict": {}, "config": {"domain": "eyes", "in_channels": 1, "channels": 8, "blocks": 1,
                                             "height": 35, "width": 55}}, out.model)
    with pytest.raises(PipelineError, match="channels: file has 8, params want 4"):
        load_refiner(out.model, "eyes", params)
    out.model.write_bytes(b"not a checkpoint")
    with pytest.raises(PipelineError, match="not a refiner checkpoint"):
        load_refiner(out.model, "eyes", params)


@pytest.mark.parametrize("ablation", [{"discriminator": "global"}, {"history": False}, {"ema_decay": 0.0},
                                      {"self_reg": "derivatives"}, {"self_reg": "channel_mean"},
                                      {"self_reg_region": "foreground"}, {"padding": "replicate"},
                                      {"padding": "edge"}])
def test_ablations_train(data_root, tmp_path, ablation):
    """Each ablation runs every kind of step and updates both networks."""
    params = load_params(write_params(tmp_path / "params.yaml", train_refiner=tiny_refiner(steps=2, **ablation)))
    gan, schedule = build_simgan(params, "eyes", World()), Schedule.of(params.eyes.train_refiner)
    before = [p.clone() for p in (*gan.refiner.parameters(), *gan.disc.parameters())]
    batches = iter(torch.rand(100, 8, 1, 35, 55) * 2 - 1)
    for step in range(schedule.total):
        metrics = gan.run_step(step, schedule, lambda: next(batches), lambda: next(batches))
    assert {"loss_adv", "loss_reg", "loss_d"} <= set(metrics)
    assert all(torch.isfinite(v) for v in metrics.values())
    after = [*gan.refiner.parameters(), *gan.disc.parameters()]
    assert all(not torch.equal(a, b) for a, b in zip(before, after))
    assert (gan.history is None) == (ablation == {"history": False})
    if ablation == {"ema_decay": 0.0}:
        assert gan.final_refiner is gan.refiner
    else:  # the delivered refiner is the weight average, which lags the last R
        assert not torch.equal(gan.final_refiner.head.weight, gan.refiner.head.weight)


def test_identity_collapse_fails_without_writing_a_model(data_root, tmp_path):
    params = load_params(write_params(tmp_path / "params.yaml", train_refiner=tiny_refiner(min_mean_change=5.0)))
    assert params.eyes.train_refiner.workers > 0
    out = Outputs.for_domain("eyes", tmp_path)
    with pytest.raises(PipelineError, match="collapsed to the identity") as failed:
        train_refiner(params, "eyes", data_root=data_root, outputs=out)
    assert not out.model.exists()
    # the traceback (held here) still references the run's streams; their loader workers must be
    # gone anyway, or torch reports their later exit inside whatever runs next in this process
    assert failed.traceback and not multiprocessing.active_children()


def test_divergence_guard_names_the_bad_values():
    check_finite({"loss_d": 0.7}, 10, "x")
    with pytest.raises(PipelineError, match=r"diverged by step 10: loss_adv=nan"):
        check_finite({"loss_d": 0.7, "loss_adv": float("nan")}, 10, "train_refiner@eyes")


def test_changed_params_do_not_resume(data_root, tmp_path):
    inputs = {s: data_root / "shards" / "eyes" / s for s in ("synthetic", "real_train")}
    a = run_identity(load_params(write_params(tmp_path / "a.yaml", train_refiner=tiny_refiner())), "eyes", inputs)
    b = run_identity(load_params(write_params(tmp_path / "b.yaml", train_refiner=tiny_refiner(lam=0.7))), "eyes", inputs)
    assert params_hash(a) != params_hash(b)
    ckpt = tmp_path / "ckpt.pt"
    torch.save({"params_hash": params_hash(a), "step": 3}, ckpt)
    assert load_checkpoint(ckpt, params_hash(a))["step"] == 3
    assert load_checkpoint(ckpt, params_hash(b)) is None


def test_resume_after_kill_ends_with_the_same_steps(data_root, tmp_path, tracking):
    """SIGKILL once the first checkpoint exists; the rerun resumes from it and finishes the schedule."""
    write_params(tmp_path / "params.yaml", train_refiner=tiny_refiner(
        steps=60, checkpoint_every=10, log_every=50, grid_every=1000, precision="fp32", threads=1))
    cmd = [sys.executable, "-m", "stages.train_refiner", "eyes", "--params", "params.yaml",
           "--data-root", str(data_root)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": tracking, "OMP_NUM_THREADS": "1"}
    ckpt = tmp_path / "checkpoints" / "train_refiner-eyes.pt"
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    killed_at = torch.load(ckpt, weights_only=True)["step"]
    assert not (tmp_path / "models" / "refiner-eyes.pt").exists()

    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"resuming from step {killed_at}/65" in done.stderr
    # the same weights as a run that was never killed (fp32, one thread): resuming loses nothing
    whole = tmp_path / "uninterrupted"
    whole.mkdir()
    (whole / "params.yaml").write_text((tmp_path / "params.yaml").read_text())
    subprocess.run(cmd, cwd=whole, env=env, check=True, capture_output=True, timeout=300)
    assert ((tmp_path / "models" / "refiner-eyes.pt").read_bytes()
            == (whole / "models" / "refiner-eyes.pt").read_bytes())
    saved = torch.load(tmp_path / "models" / "refiner-eyes.pt", weights_only=True)
    assert saved["steps"] == 65
    final = json.loads((tmp_path / "metrics" / "train_refiner-eyes.json").read_text())
    assert final["steps"] == 65
    assert final["machine"] == machine(torch.device("cpu"))  # the CPU kind changes the bytes: recorded
    run_id = json.loads((tmp_path / "lineage" / "train_refiner-eyes.json").read_text())["mlflow_run_id"]
    run = mlflow.get_run(run_id)
    assert run.data.metrics["loss_adv"] > 0  # one run across the kill
    assert run.data.tags["cpu"] == final["machine"]["cpu"] and run.data.tags["torch"] == torch.__version__


def test_same_inputs_give_the_same_refiner_and_refined_bytes(data_root, tmp_path):
    """train_refiner -> refine twice from scratch (fp32, one thread): byte-identical refiner file,
    metrics, grid and refined shards (no run ids or timings in any of them)."""
    from stages.refine import parser as refine_parser, run as refine_run

    params_path = write_params(tmp_path / "params.yaml", train_refiner=tiny_refiner(precision="fp32", threads=1))
    params = load_params(params_path)
    runs = []
    work = tmp_path / "run"  # both runs in one place: the card and dataset.json record the paths given
    for _ in range(2):
        out = Outputs.for_domain("eyes", work)
        train_refiner(params, "eyes", data_root=data_root, outputs=out)
        data = work / "data"
        shutil.copytree(data_root / "shards" / "eyes" / "synthetic", data / "shards" / "eyes" / "synthetic")
        args = refine_parser().parse_args(["eyes", "--params", str(params_path), "--data-root", str(data),
                                           "--model", str(out.model),
                                           "--metrics", str(work / "metrics" / "refine-eyes.json")])
        refine_run(args, params)
        files = [out.model, out.metrics, out.grid, *sorted((data / "shards" / "eyes" / "refined").iterdir()),
                 work / "metrics" / "refine-eyes.json"]
        runs.append({p.relative_to(work).as_posix(): p.read_bytes() for p in files})
        shutil.rmtree(work)
    assert runs[0].keys() == runs[1].keys() and any(k.endswith(".tar") for k in runs[0])
    assert [k for k in runs[0] if runs[0][k] != runs[1][k]] == []
