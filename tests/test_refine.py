"""refine@<domain>: refined shards keep keys, order and meta; resume, failures, parallel, checks."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline.crops import hands as crops
from pipeline.refine import context
from pipeline.refine.annotation_check import LOST, MOVE, SHIFT, iris_shift_px, joint_depth_change_mm, summarize
from pipeline.errors import PipelineError
from pipeline.params import load_params
from pipeline.shards import iter_shard, list_shards, read_dataset_info, read_manifest
from pipeline.tracking import file_sha256
from support.params import write_params
from support.refiner import write_refiner
from support.samples import FAR_MM, write_synthetic
from support.samples import annotated_eye_sample as eye_sample, annotated_hand_sample as hand_sample
from stages.refine import parser, run

ROOT = Path(__file__).resolve().parent.parent


def make_project(tmp: Path, domain: str = "eyes", n: int = 40, shard_size: int = 10, shift_x: int = 0,
                 channels: int = 4, blocks: int = 1, gain: float = 1.0, **refine) -> tuple[Path, Path]:
    params = write_params(tmp / "params.yaml", domain, train_refiner={"channels": channels, "blocks": blocks},
                          refine=refine)
    write_synthetic(tmp / "data", domain, n, shard_size)
    (tmp / "models").mkdir(exist_ok=True)
    write_refiner(tmp / "models" / f"refiner-{domain}.pt", params, domain, shift_x=shift_x, gain=gain)
    return params, tmp / "data" / "shards" / domain


def run_stage(tmp: Path, domain: str = "eyes", params: Path | None = None) -> dict:
    params = params or tmp / "params.yaml"
    args = parser().parse_args([domain, "--params", str(params), "--data-root", str(tmp / "data"),
                                "--model", str(tmp / "models" / f"refiner-{domain}.pt"),
                                "--metrics", str(tmp / "metrics" / f"refine-{domain}.json")])
    run(args, load_params(params))
    return json.loads((tmp / "metrics" / f"refine-{domain}.json").read_text())


def folder_bytes(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


@pytest.mark.parametrize("domain", ["eyes", "hands"])
def test_refined_shards_keep_keys_order_and_meta(tmp_path, domain):
    # eyes: 2 processes; hands: R keeps the background, as a trained R does (the crop is cut again)
    _, data = make_project(tmp_path, domain, workers=2 if domain == "eyes" else 1, gain=1.0 if domain == "eyes" else 3.0)
    m = run_stage(tmp_path, domain)
    model = tmp_path / "models" / f"refiner-{domain}.pt"
    refined_by = {"refiner_sha256": file_sha256(model)}  # no run id: the same refiner gives the same bytes
    syn_shards, ref_shards = list_shards(data / "synthetic"), list_shards(data / "refined")
    assert [Path(s).name.replace("synthetic", "refined") for s in syn_shards] == [Path(s).name for s in ref_shards]
    changed = 0
    for a, b in zip(syn_shards, ref_shards):
        syn, ref = list(iter_shard(a)), list(iter_shard(b))
        assert [s.key for s in syn] == [r.key for r in ref]
        wide = {c.key: c.meta for c in iter_shard(a.replace("synthetic", "synthetic_context"))} if domain == "hands" else {}
        for s, r in zip(syn, ref):
            if domain == "hands":  # refined from the context crop and cut again: its own crop, labels moved
                assert r.meta == context.final_meta(wide[s.key], r.meta["crop"], refined_by)
                assert r.meta["context_crop"] == wide[s.key]["crop"] and r.meta["crop"]["size"] == s.meta["crop"]["size"]
                frame = crops.uncrop_uvd(s.meta["labels"]["joints_uvd"], s.meta["crop"])
                np.testing.assert_allclose(crops.uncrop_uvd(r.meta["labels"]["joints_uvd"], r.meta["crop"]), frame,
                                           atol=0.05)
            else:
                assert r.meta == {**s.meta, "refined_by": refined_by}
            assert r.image.dtype == s.image.dtype and r.image.shape == s.image.shape
            changed += int(not np.array_equal(r.image, s.image))
    assert changed == 40  # the refiner did refine every image
    info = read_dataset_info(data / "refined")
    assert info["counts"] == {"in": 40, "written": 40, "rejected": 0}
    assert info["info"]["refined_by"] == refined_by
    assert len(info["info"]["inputs"]["synthetic"]["data_version"]) == 16
    manifest = read_manifest(data / "refined")
    assert manifest.column("key").to_pylist() == [f"synthetic-{i:05d}" for i in range(40)]
    assert set(manifest.column("refined_by_refiner_sha256").to_pylist()) == {refined_by["refiner_sha256"]}
    card = (data / "refined" / "README.md").read_text()
    assert refined_by["refiner_sha256"] in card and "sample-grid.png" in card
    assert (data / "refined" / "sample-grid.png").stat().st_size > 0
    assert not list((data / "refined").glob(".*"))  # no progress or temporary files left
    assert m["samples"] == 40 and m["shards_refined"] == 4 and "seconds" not in m  # timings: lineage/
    assert json.loads((tmp_path / "lineage" / f"refine-{domain}.json").read_text())["images_per_s"] > 0
    assert m["label_shift"]["checked"] == 40 and m["label_shift"]["passed"]


def test_rerun_after_kill_redoes_only_missing_shards(tmp_path):
    # a refiner big enough that a shard takes a while, so the kill lands mid-run
    _, data = make_project(tmp_path, n=240, shard_size=12, channels=16, blocks=4, batch_size=6)
    out = data / "refined"
    run_stage(tmp_path)  # the clean run (in-process, one worker)
    clean = folder_bytes(out)
    shutil.rmtree(out)

    cmd = [sys.executable, "-m", "stages.refine", "eyes", "--params", str(tmp_path / "params.yaml"),
           "--data-root", str(tmp_path / "data"), "--model", str(tmp_path / "models" / "refiner-eyes.pt"),
           "--metrics", str(tmp_path / "metrics" / "refine-eyes.json")]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (out / "refined-000001.tar").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.name: p.stat().st_mtime_ns for p in out.glob("refined-*.tar")}
    assert 2 <= len(done) < 20, f"kill landed at a bad time: {sorted(done)}"
    assert not (out / "dataset.json").exists()  # an unfinished folder has no index

    m = run_stage(tmp_path)
    assert m["shards_kept"] == len(done) and m["shards_refined"] == 20 - len(done)
    assert {n: (out / n).stat().st_mtime_ns for n in done} == done  # kept shards were not rewritten
    assert folder_bytes(out) == clean


def test_rerun_keeps_only_shards_of_the_same_refiner_and_inputs(tmp_path):
    params, data = make_project(tmp_path)
    out = data / "refined"
    run_stage(tmp_path)
    clean = folder_bytes(out)
    (out / "refined-000001.tar").write_bytes(clean["refined-000001.tar"][:5000])  # damaged
    (out / ".refined-000002.tar.tmp").write_bytes(b"left by a kill")
    (out / "refined-000009.tar").write_bytes(clean["refined-000000.tar"])  # from a bigger earlier run
    m = run_stage(tmp_path)
    assert (m["shards_kept"], m["shards_refined"]) == (3, 1)
    assert folder_bytes(out) == clean

    write_refiner(tmp_path / "models" / "refiner-eyes.pt", params, "eyes", seed=1)  # a new refiner
    m = run_stage(tmp_path)
    assert (m["shards_kept"], m["shards_refined"]) == (0, 4)
    assert folder_bytes(out)["refined-000000.tar"] != clean["refined-000000.tar"]


def test_unreadable_synthetic_shard_fails_naming_it(tmp_path):
    _, data = make_project(tmp_path)
    bad = data / "synthetic" / "synthetic-000002.tar"
    bad.write_bytes(bad.read_bytes()[:3000])  # truncated mid-member
    with pytest.raises(PipelineError, match="synthetic-000002.tar"):
        run_stage(tmp_path)
    out = data / "refined"
    assert sorted(p.name for p in out.glob("*.tar")) == ["refined-000000.tar", "refined-000001.tar",
                                                         "refined-000003.tar"]  # kept for the rerun
    assert not list(out.glob(".*.tmp")) and not (out / "dataset.json").exists()
    bad.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(PipelineError, match="synthetic-000002.tar"):
        run_stage(tmp_path)


def test_refiner_that_does_not_match_params_is_a_clear_error(tmp_path):
    params, _ = make_project(tmp_path)
    model = tmp_path / "models" / "refiner-eyes.pt"
    write_refiner(model, params, "eyes", config={"channels": 8})
    with pytest.raises(PipelineError, match="channels: file has 8, params want 4"):
        run_stage(tmp_path)
    write_refiner(model, params, "eyes", config={"domain": "hands"})
    with pytest.raises(PipelineError, match="domain: file has 'hands', params want 'eyes'"):
        run_stage(tmp_path)


def test_stage_fails_when_refiner_moves_the_labels(tmp_path):
    make_project(tmp_path, shift_x=1, max_label_shift=0.5)  # R moves the image one pixel left
    with pytest.raises(PipelineError, match="annotation check failed"):
        run_stage(tmp_path)
    m = json.loads((tmp_path / "metrics" / "refine-eyes.json").read_text())
    assert 0.8 < m["label_shift"]["mean"] < 1.2 and not m["label_shift"]["passed"]
    shards = tmp_path / "data" / "shards" / "eyes"
    assert not (shards / "refined").exists()  # nothing that looks publishable
    failed = shards / "refined.failed"
    assert sorted(p.name for p in failed.iterdir()) == [f"refined-{i:06d}.tar" for i in range(4)]


def test_iris_shift_follows_motion_and_ignores_contrast_and_noise():
    rng = np.random.default_rng(1)
    samples = [eye_sample(rng, f"k{i}") for i in range(30)]
    syn, metas = np.stack([s.image for s in samples]), [s.meta for s in samples]
    def shift(refined, m=metas):
        return iris_shift_px(syn, refined, m)[:, SHIFT]

    assert 0.85 < shift(np.roll(syn, 1, axis=2)).mean() < 1.1
    assert 1.5 < shift(np.roll(syn, 2, axis=1)).mean() < 2.1
    contrast = np.clip(syn * 0.6 + 40, 0, 255).astype(np.uint8)
    assert shift(contrast).max() < 0.05
    noisy = np.clip(syn + rng.normal(0, 8, syn.shape), 0, 255).astype(np.uint8)
    assert shift(noisy).mean() < 0.1
    assert (iris_shift_px(syn, noisy, metas)[:, LOST] == 0).all()
    gone = iris_shift_px(syn, np.full_like(syn, 200), metas)
    assert gone[:, SHIFT].min() > 5 and (gone[:, LOST] == 1).all()  # iris gone: lost, and moved by its radius
    no_marks = [{k: v for k, v in m.items() if k != "labels"} for m in metas]
    assert np.isnan(iris_shift_px(syn, syn, no_marks)).all()


def test_iris_shift_reads_the_iris_in_the_opening_not_the_lids():
    """A large iris' disc reaches over the lids (UnityEyes' iris is 0.63 of the eye's width): a darker
    lid margin around the opening must not read as a moved iris, while the iris moving still does."""
    import cv2
    from pipeline.refine.annotation_check import dark_centroids, iris_discs, opening_masks
    rng = np.random.default_rng(3)
    samples = [eye_sample(rng, f"k{i}") for i in range(30)]
    syn, metas = np.stack([s.image for s in samples]), [s.meta for s in samples]
    opening = opening_masks(metas, syn.shape[1:])
    assert opening[:, 17, 27].all() and not opening[:, 1, 27].any()  # the ellipse's centre, the crop's top
    ring = np.stack([cv2.dilate(o.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool) & ~o for o in opening])
    lids = np.where(ring, 40, syn).astype(np.uint8)  # a dark lid margin and lashes around the opening
    centres, radii = iris_discs(metas, syn.shape[1])
    big = radii * 1.6  # a disc reaching over both lids

    def moved(refined, regions):
        both = dark_centroids(np.concatenate([syn, refined]), np.tile(centres, (2, 1)), np.tile(big, 2),
                              None if regions is None else np.concatenate([regions, regions]))
        return np.linalg.norm(both[:30] - both[30:], axis=1).mean()
    assert moved(lids, None) > 0.5  # the unbounded disc follows the lids
    assert moved(lids, opening) < 0.05
    assert moved(np.roll(syn, 1, axis=2), opening) > 0.6
    assert moved(np.roll(syn, 1, axis=2), opening) >= 0.9 * moved(np.roll(syn, 1, axis=2), None)


def test_joint_depth_change_is_measured_in_mm_on_the_hand_only():
    rng = np.random.default_rng(2)
    samples = [hand_sample(rng, f"h{i}") for i in range(10)]
    syn, metas = np.stack([s.image for s in samples]), [s.meta for s in samples]
    hand = syn < FAR_MM
    deeper = np.where(hand, syn + 7, FAR_MM).astype(np.uint16)
    assert np.allclose(joint_depth_change_mm(syn, deeper, metas)[:, [SHIFT, LOST]], [7.0, 0.0])
    background_only = np.where(hand, syn, 999).astype(np.uint16)
    assert np.allclose(joint_depth_change_mm(syn, background_only, metas)[:, [SHIFT, LOST]], [0.0, 0.0])


def rendered_hands(n: int = 10, size: int = 64, seed: int = 0):
    """Clean simulator renders of n hands, cropped as ingest crops them: (N, S, S) depth mm and metas
    with crop-pixel joints. Fingers are a few px wide, so the surface around a joint has edges."""
    from pipeline.crops import hands as crops
    from pipeline.formats import nyu
    from pipeline.params import HandSimulate
    from pipeline.simulate import hands as sim

    rng = np.random.default_rng(seed)
    points, scales = sim.sample_hands(rng, n, False, HandSimulate())
    images, metas = [], []
    for p, s in zip(points, scales):
        depth = sim.render_frame(p, s, rng, None, False)
        crop = crops.crop_dict(crops.center_from_depth(depth, 300.0, 200.0, 1500.0, 200), 300.0, size)
        uvd = nyu.xyz_to_uvd(p[:nyu.N_JOINTS])[list(nyu.EVAL_JOINTS)]
        images.append(crops.crop_depth(depth, crop))
        metas.append({"crop": crop, "labels": {"joints_uvd": crops.crop_uvd(uvd, crop).tolist()}})
    return np.stack(images), metas


def test_hand_check_catches_a_sideways_slide_and_gates_on_p95():
    """Depth at the joint pixel barely notices a hand slid by 1 px; the patch match reads 1 and 2 px.
    A depth offset is the depth measure's: it moves nothing sideways. Sensor noise on a still hand
    moves nothing either."""
    syn, metas = rendered_hands(20)
    still = joint_depth_change_mm(syn, syn, metas)
    assert np.allclose(still[:, [SHIFT, LOST, MOVE]], 0.0)
    one = joint_depth_change_mm(syn, np.roll(syn, 1, axis=2), metas)
    two = joint_depth_change_mm(syn, np.roll(syn, 2, axis=1), metas)
    assert np.allclose(one[:, MOVE], 1.0) and np.allclose(two[:, MOVE], 2.0)
    hand = syn < syn.max(axis=(1, 2), keepdims=True)
    offset = joint_depth_change_mm(syn, np.where(hand, syn + 20, syn).astype(np.uint16), metas)
    assert np.allclose(offset[:, MOVE], 0.0) and np.allclose(offset[:, SHIFT], 20.0)
    noisy = np.where(hand, syn + np.random.default_rng(1).normal(0, 3, syn.shape), syn).astype(np.uint16)
    assert joint_depth_change_mm(syn, noisy, metas)[:, MOVE].mean() < 0.2
    limits = dict(max_shift=10.0, max_lost=0.5, max_shift_p95=25.0, max_move=0.75, max_move_p95=1.5)
    assert summarize("hands", still, **limits)["passed"]
    slid = summarize("hands", one, **{**limits, "max_shift": 100.0, "max_shift_p95": 100.0})
    assert slid["move"]["mean"] == 1.0 and not slid["passed"]  # the depth limits alone would pass it
    # one hand in ten slid by 2 px: the mean (0.2 px) passes, the 95th percentile does not
    few = still.copy()
    few[:2] = two[:2]
    summary = summarize("hands", few, **limits)
    assert summary["move"]["mean"] < 0.75 < 1.5 < summary["move"]["p95"] and not summary["passed"]
    # the same for the depth shift: a mean under its limit, a tail over the p95 limit
    tail = still.copy()
    tail[:2, SHIFT] = 40.0
    summary = summarize("hands", tail, **limits)
    assert summary["mean"] < 10.0 and summary["p95"] > 25.0 and not summary["passed"]


def test_joint_depth_holes_count_as_lost_not_as_moved():
    rng = np.random.default_rng(3)
    samples = [hand_sample(rng, f"h{i}") for i in range(10)]
    syn, metas = np.stack([s.image for s in samples]), [s.meta for s in samples]
    holes, expected = syn.copy(), []
    for i, m in enumerate(metas):  # the sensor loses the first two joints' pixels (missing depth)
        px = np.rint(np.array(m["labels"]["joints_uvd"])[:, :2]).astype(int)
        holes[i, px[:2, 1], px[:2, 0]] = 0
        expected.append(np.mean(holes[i, px[:, 1], px[:, 0]] == 0))  # joints on those pixels too
    check = joint_depth_change_mm(syn, holes, metas)
    assert np.allclose(check[:, SHIFT], 0.0) and np.allclose(check[:, LOST], expected)
    assert min(expected) >= 2 / 14
    summary = summarize("hands", check, max_shift=1.0, max_lost=0.05)
    assert summary["mean"] == 0.0 and not summary["passed"]  # no surface moved, but too many holes
    assert summarize("hands", check, max_shift=1.0, max_lost=0.5)["passed"]
    erased = np.full_like(syn, FAR_MM)
    assert np.isnan(joint_depth_change_mm(syn, erased, metas)[:, SHIFT]).all()
    assert not summarize("hands", joint_depth_change_mm(syn, erased, metas), 100.0, 0.5)["passed"]


def test_rerun_with_changed_code_refines_again(tmp_path, monkeypatch):
    """The fingerprint holds a hash of refine's code: shards written by other code are never kept."""
    import pipeline.refine.split as split

    make_project(tmp_path)
    assert run_stage(tmp_path)["shards_refined"] == 4
    assert run_stage(tmp_path)["shards_kept"] == 4  # same code, refiner and inputs: kept
    monkeypatch.setattr(split, "code_hash", lambda module: "other code")
    m = run_stage(tmp_path)
    assert (m["shards_kept"], m["shards_refined"]) == (0, 4)
