"""ingest@hands on simulated NYU folders: the shard contract, labels kept apart, bad input."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest

from pipeline.crops import hands as crops
from pipeline.errors import PipelineError, RejectionError
from pipeline.formats import nyu
from pipeline.ingest.hands import ingest_hands
from pipeline.params import HandIngest, HandSimulate, HandsDomain, Ingest, Params, ParamsError
from pipeline.shards import read_dataset_info, read_manifest, read_samples
from pipeline.simulate import hands

SPLITS = ("synthetic", "real_train", "real_test")
EVAL = list(nyu.EVAL_JOINTS)


def params(workers: int = 1, max_reject: float = 0.05, size: int = 32, center: str = "depth",
           val_sequences: tuple = (), holdout: float = 0.0) -> Params:
    """No real_val / real_holdout unless asked: the other tests see every train frame in real_train."""
    domain = HandsDomain(ingest=HandIngest(size=size, center=center, sequence_frames=2, val_sequences=list(val_sequences)))
    return replace(Params(), ingest=Ingest(shard_size=4, workers=workers, max_reject_fraction=max_reject,
                                           holdout_fraction=holdout), hands=domain)


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("raw")
    hands.simulate_hands(root, HandSimulate(n_synthetic=6, n_real_train=6, n_real_test=4, workers=1), seed=1)
    return root


@pytest.fixture(scope="module")
def ingested(raw, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("data")
    return out, ingest_hands(params(workers=2), raw / "synthetic", raw / "real", out)


def samples(out: Path, split: str) -> list:
    return list(read_samples(out / "shards" / "hands" / split, by_node=False))


def outputs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_three_splits_follow_the_shard_contract(ingested, raw):
    out, result = ingested
    assert {s: c["written"] for s, c in result["counts"].items()} == {"synthetic": 6, "real_train": 6, "real_test": 4,
                                                                     "real_holdout": 0, "real_val": 0,
                                                                     "synthetic_context": 6}
    for split in SPLITS:
        split_dir = out / "shards" / "hands" / split
        assert sorted(p.name for p in split_dir.glob("*.tar"))[0] == f"{split}-000000.tar"
        assert read_dataset_info(split_dir)["counts"]["rejected"] == 0
        assert read_manifest(split_dir).num_rows == result["counts"][split]["written"]
        size = 48 if split == "synthetic_context" else 32  # context: 1.5x the cube at the same pitch
        for s in samples(out, split):
            assert s.image.dtype == np.uint16 and s.image.shape == (size, size)
            assert {"id", "domain", "split", "source", "crop"} <= set(s.meta) and s.meta["domain"] == "hands"
            assert s.meta["split"] == split and s.meta["id"] == s.key and "." not in s.key
            assert set(s.meta["crop"]) == {"center_uvd", "cube_mm", "size", "fx", "fy", "cx", "cy", "src_size"}
            x = crops.normalize(s.image, s.meta)
            assert x.min() >= -1 and x.max() == 1.0 and (x < 1).mean() > 0.03  # a hand on a +1 background
            if split == "real_train":
                assert "labels" not in s.meta  # nothing a refiner could read
            else:
                labels = s.meta["labels"]
                assert np.array(labels["joints_uvd"]).shape == (14, 3) and labels["joint_ids"] == EVAL
    assert samples(out, "synthetic")[0].meta["source"] == "synthetic/synthdepth_1_0000001.png"
    for syn, wide in zip(samples(out, "synthetic"), samples(out, "synthetic_context")):
        # the same frame and centre; the final crop's recipe recorded; the same frame joints
        assert wide.key == syn.key and wide.meta["crop"]["center_uvd"] == syn.meta["crop"]["center_uvd"]
        assert wide.meta["context"]["synthetic_crop"] == syn.meta["crop"] and wide.meta["context"]["size"] == 32
        np.testing.assert_allclose(crops.uncrop_uvd(wide.meta["labels"]["joints_uvd"], wide.meta["crop"]),
                                   crops.uncrop_uvd(syn.meta["labels"]["joints_uvd"], syn.meta["crop"]), atol=0.01)
    assert samples(out, "real_test")[0].meta["source"] == "real/test/depth_1_0000001.png"


def test_val_is_whole_sequences_and_holdout_a_stable_share_of_the_rest(raw, tmp_path):
    """Frames 5-6 (sequence 2 of 2-frame sequences) are labelled real_val; of frames 1-4 a per-frame hash
    holds some out (labels apart, like real_train); nothing is lost and a rerun gives the same bytes."""
    p = params(val_sequences=(2,), holdout=0.5)
    result = ingest_hands(p, raw / "synthetic", raw / "real", tmp_path / "a")
    counts = {s: c["written"] for s, c in result["counts"].items()}
    assert counts["real_val"] == 2 and counts["real_train"] + counts["real_holdout"] == 4
    assert 0 < counts["real_holdout"] < 4  # 0.5 of 4 frames by hash: 1..3 expected for these names
    val = samples(tmp_path / "a", "real_val")
    assert [s.key for s in val] == ["depth_1_0000005", "depth_1_0000006"] and all("labels" in s.meta for s in val)
    held = samples(tmp_path / "a", "real_holdout")
    assert all("labels" not in s.meta for s in held)
    table = pq.read_table(tmp_path / "a" / "labels" / "hands" / "real_holdout.parquet").to_pylist()
    assert sorted(r["key"] for r in table) == sorted(s.key for s in held)
    ingest_hands(p, raw / "synthetic", raw / "real", tmp_path / "b")
    assert outputs(tmp_path / "a") == outputs(tmp_path / "b")


def test_a_val_sequence_past_the_end_of_train_is_named_not_left_empty(raw, tmp_path):
    """6 labelled train frames in 2-frame sequences are sequences 0..2: asking for 3 (or -1) would give a
    real_val short of what was asked (empty here), so ingest stops, naming the key and what exists."""
    for asked, past in (((2, 3), r"\[3\]"), ((-1,), r"\[-1\]")):
        with pytest.raises(ParamsError, match=rf"hands\.ingest\.val_sequences: {past} past the end of .*train: "
                                              r"its 6 frames make 3 sequence\(s\) of hands\.ingest\.sequence_frames 2 \(0\.\.2\)"):
            ingest_hands(params(val_sequences=asked), raw / "synthetic", raw / "real", tmp_path / "out")
        assert not (tmp_path / "out").exists()  # nothing written
    unlabelled = tmp_path / "unlabelled"  # no joint_data.mat in train/: no real_val, val_sequences unused
    shutil.copytree(raw / "real", unlabelled)
    (unlabelled / "train" / "joint_data.mat").unlink()
    counts = ingest_hands(params(val_sequences=(3,)), raw / "synthetic", unlabelled, tmp_path / "u")["counts"]
    assert counts["real_val"]["written"] == 0 and counts["real_train"]["written"] == 6


def test_labels_round_trip_to_the_frames_joints(ingested, raw):
    """Crop labels (shards for labelled splits, the parquet for real_train) uncrop to joint_data.mat."""
    out, result = ingested
    table = {r["key"]: r for r in pq.read_table(result["labels"]).to_pylist()}
    assert sorted(table) == sorted(s.key for s in samples(out, "real_train"))
    for split, folder in (("synthetic", "synthetic"), ("real_test", "real/test"), ("real_train", "real/train")):
        truth = nyu.read_joint_data(raw / folder / "joint_data.mat")
        for s in samples(out, split):
            i = int(s.key.split("_")[-1]) - 1
            labels = s.meta.get("labels") or {"joints_uvd": table[s.key]["labels_joints_uvd"],
                                              "joints_xyz": table[s.key]["labels_joints_xyz"]}
            back = crops.uncrop_joints(np.array(labels["joints_uvd"]), s.meta["crop"])
            assert np.abs(back[:, :2] - truth.uvd[i, EVAL, :2]).max() < 0.5
            assert np.abs(back[:, 2] - truth.uvd[i, EVAL, 2]).max() < 1.0
            assert np.allclose(labels["joints_xyz"], truth.xyz[i, EVAL], atol=1e-3)


def test_same_input_gives_byte_identical_outputs_whatever_the_workers(ingested, raw, tmp_path):
    out, _ = ingested
    ingest_hands(params(workers=1), raw / "synthetic", raw / "real", tmp_path)
    assert outputs(tmp_path) == outputs(out)


def test_real_train_crops_come_from_depth_never_from_labels(ingested, raw, tmp_path):
    out, _ = ingested
    moved = tmp_path / "raw"
    shutil.copytree(raw, moved)
    mat = moved / "real" / "train" / "joint_data.mat"
    joints = nyu.read_joint_data(mat)
    nyu.write_joint_data(mat, joints.uvd + [60.0, -40.0, 100.0], joints.xyz + 100.0)  # different labels
    ingest_hands(params(), moved / "synthetic", moved / "real", tmp_path / "data")
    train = "shards/hands/real_train/real_train-000000.tar"
    assert (tmp_path / "data" / train).read_bytes() == (out / train).read_bytes()
    labels = "labels/hands/real_train.parquet"
    assert (tmp_path / "data" / labels).read_bytes() != (out / labels).read_bytes()


def test_center_param_picks_depth_or_labels_for_labelled_splits(ingested, raw, tmp_path):
    """Default: every split's cube centred from depth alone (as real_train must be); `labels`:
    labelled splits centred on their joints' centroid. Labels uncrop to the frame either way."""
    out, _ = ingested
    ingest_hands(params(center="labels"), raw / "synthetic", raw / "real", tmp_path)
    for split, folder in (("synthetic", "synthetic"), ("real_test", "real/test")):
        truth = nyu.read_joint_data(raw / folder / "joint_data.mat")
        by_depth, by_labels = samples(out, split), samples(tmp_path, split)
        for d, lab in zip(by_depth, by_labels):
            i = int(d.key.split("_")[-1]) - 1
            expected = crops.crop_dict(crops.center_from_joints(truth.uvd[i, EVAL]), 300.0, 32)
            assert lab.meta["crop"]["center_uvd"] == expected["center_uvd"]
            frame = nyu.read_depth(next((raw / folder).glob(f"*_{i + 1:07d}.png")))
            from_depth = crops.center_from_depth(frame, 300.0, 200.0, 1500.0, 200)
            assert d.meta["crop"]["center_uvd"] == crops.crop_dict(from_depth, 300.0, 32)["center_uvd"]
            assert d.meta["crop"] != lab.meta["crop"]
    assert samples(tmp_path, "real_train")[0].meta["crop"] == samples(out, "real_train")[0].meta["crop"]


def write_png(path: Path, image: np.ndarray) -> None:
    cv2.imwrite(str(path), image)


@pytest.fixture()
def broken(raw, tmp_path) -> Path:
    """A copy of the raw folders with one of each kind of bad input."""
    root = tmp_path / "raw"
    shutil.copytree(raw, root)
    syn, train, test = root / "synthetic", root / "real" / "train", root / "real" / "test"
    write_png(syn / "synthdepth_1_0000002.png", np.full((480, 640), 800, np.uint16))     # 16-bit grey
    write_png(syn / "synthdepth_1_0000003.png", np.zeros((480, 640, 4), np.uint8))      # RGBA
    write_png(syn / "synthdepth_1_0000004.png", np.zeros((240, 320, 3), np.uint8))      # wrong size
    (train / "depth_1_0000002.png").unlink()                                            # missing frame
    shutil.copy(train / "depth_1_0000001.png", train / "depth_1_0000007.png")           # 7 PNGs, 6 label rows
    (train / "depth_1_0000003.png").write_bytes(nyu.encode_depth(np.full((480, 640), 2500, np.uint16)))
    (test / "depth_1_0000001.png").write_bytes(nyu.encode_depth(np.zeros((480, 640), np.uint16)))
    return root


def test_bad_input_is_rejected_with_reasons_and_counted(broken, tmp_path):
    result = ingest_hands(params(max_reject=1.0), broken / "synthetic", broken / "real", tmp_path)
    counts = result["counts"]
    assert counts["synthetic"] == {"in": 6, "written": 3, "rejected": 3}
    assert counts["real_train"] == {"in": 7, "written": 4, "rejected": 3}  # 6 rows + 1 extra PNG: none lost
    assert counts["real_test"] == {"in": 4, "written": 3, "rejected": 1}
    reasons = {}
    for split in SPLITS:
        for line in (tmp_path / "shards" / "hands" / split / "rejected.jsonl").read_text().splitlines():
            r = json.loads(line)
            reasons[r["file"]] = r["reason"]
    assert "16-bit grey" in reasons["synthetic/synthdepth_1_0000002.png"]
    assert "RGBA" in reasons["synthetic/synthdepth_1_0000003.png"]
    assert "320x240" in reasons["synthetic/synthdepth_1_0000004.png"]
    assert "missing frame file" in reasons["real/train/depth_1_0000002.png"]
    assert "joint_data.mat has 6 frames" in reasons["real/train/depth_1_0000007.png"]
    assert reasons["real/train/depth_1_0000003.png"].startswith("no hand in range")
    assert reasons["real/test/depth_1_0000001.png"].startswith("no hand in range")


def test_too_many_rejects_fail_naming_the_files(broken, tmp_path):
    with pytest.raises(RejectionError, match=r"synthdepth_1_000000[234]\.png"):
        ingest_hands(params(max_reject=0.05), broken / "synthetic", broken / "real", tmp_path)


def test_labelled_split_without_joint_data_is_an_error_unlabelled_real_train_is_fine(raw, tmp_path):
    root = tmp_path / "raw"
    shutil.copytree(raw, root)
    (root / "real" / "train" / "joint_data.mat").unlink()
    result = ingest_hands(params(), root / "synthetic", root / "real", tmp_path / "data")
    assert result["counts"]["real_train"]["written"] == 6 and pq.read_table(result["labels"]).num_rows == 0
    (root / "real" / "test" / "joint_data.mat").unlink()
    with pytest.raises(PipelineError, match=r"real/test/joint_data\.mat: missing"):
        ingest_hands(params(), root / "synthetic", root / "real", tmp_path / "data")
