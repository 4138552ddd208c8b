"""ingest@eyes end to end on small simulated data: splits, labels kept apart, bad input, determinism."""
from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
import scipy.io

from eyes_fixtures import write_unityeyes
from pipeline.errors import RejectionError
from pipeline.formats.mpiigaze import write_mat
from pipeline.ingest.eyes import ingest_eyes
from pipeline.params import EyeSimulate, ParamsError, load_params
from pipeline.shards import read_dataset_info, read_manifest, read_samples
from pipeline.simulate.eyes import simulate_eyes

TINY = EyeSimulate(n_synthetic=60, n_participants=3, n_per_participant=20, workers=1)


def params(tmp_path, workers=1, head_pose_max_deg=20.0, **ingest):
    """Default params with small shards, one test and one val participant and the given overrides."""
    path = tmp_path / "params.yaml"
    path.write_text("seed: 0\n")
    return load_params(path, {"ingest": {"workers": workers, "shard_size": 25, **ingest},
                              "eyes": {"ingest": {"test_participants": ["p00"], "val_participants": ["p02"],
                                                  "head_pose_max_deg": head_pose_max_deg}}})


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    simulate_eyes(root, TINY, seed=1)
    return root


def split_dir(out, split):
    return out / "shards" / "eyes" / split


def tree_digest(root) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_splits_counts_and_labels_kept_apart(raw, tmp_path):
    out = tmp_path / "data"
    result = ingest_eyes(params(tmp_path), raw / "synthetic", raw / "real", out)
    assert result["formats"] == {"synthetic": "unityeyes", "real": "mpiigaze"}
    assert result["counts"]["synthetic"] == {"in": 60, "written": 60, "rejected": 0}
    written = {split: c["written"] for split, c in result["counts"].items()}
    assert written["real_test"] == 40 and written["real_val"] == 40
    # p01's 40 eyes: a stable ~20 % of its frames held out for realism, both eyes of a frame together
    assert written["real_train"] + written["real_holdout"] == 40 and 0 < written["real_holdout"] < 20
    holdout = list(read_samples(split_dir(out, "real_holdout"), by_node=False))
    assert all("labels" not in s.meta for s in holdout)
    assert len({s.meta["source"].split("#")[1].split("/")[1] for s in holdout}) * 2 == len(holdout)
    val = list(read_samples(split_dir(out, "real_val"), by_node=False))
    assert {s.meta["source"].split("/")[2] for s in val} == {"p02"} and all("labels" in s.meta for s in val)
    assert sorted(p.name for p in split_dir(out, "synthetic").glob("*.tar")) == \
        ["synthetic-000000.tar", "synthetic-000001.tar", "synthetic-000002.tar"]
    test = list(read_samples(split_dir(out, "real_test"), by_node=False))
    assert {s.meta["source"].split("/")[2] for s in test} == {"p00"}
    assert all("labels" in s.meta and s.meta["split"] == "real_test" for s in test)
    train = list(read_samples(split_dir(out, "real_train"), by_node=False))
    assert {s.meta["source"].split("/")[2] for s in train} == {"p01"}
    assert all("labels" not in s.meta for s in train)
    manifest = read_manifest(split_dir(out, "real_train")).to_pydict()
    assert not any(c.startswith("labels") for c in manifest)
    # the oracle labels sit apart, keyed by sample key, and match the day files
    labels = pq.read_table(out / "labels" / "eyes" / "real_train.parquet").to_pandas().set_index("key")
    assert sorted(labels.index) == sorted(manifest["key"])
    key = "mp-p01-day01-r0003"
    gaze = scipy.io.loadmat(raw / "real/Data/Normalized/p01/day01.mat", struct_as_record=False,
                            squeeze_me=True)["data"].right.gaze[3]
    assert labels.loc[key, "labels_gaze_pitch"] == pytest.approx(np.arcsin(-gaze[1]))
    assert labels.loc[key, "labels_gaze_yaw"] == pytest.approx(-np.arctan2(-gaze[0], -gaze[2]))  # right eye
    syn = read_manifest(split_dir(out, "synthetic")).to_pydict()
    assert {"labels_gaze_pitch", "labels_gaze_yaw", "crop_center", "source"} <= set(syn)
    info = read_dataset_info(split_dir(out, "synthetic"))
    assert info["info"]["real"]["format"] == "mpiigaze" and info["counts"]["in"] == 60


def test_rerun_and_two_workers_give_byte_identical_shards(raw, tmp_path):
    ingest_eyes(params(tmp_path), raw / "synthetic", raw / "real", tmp_path / "a")
    ingest_eyes(params(tmp_path), raw / "synthetic", raw / "real", tmp_path / "a2")
    ingest_eyes(params(tmp_path, workers=2), raw / "synthetic", raw / "real", tmp_path / "b")
    first = tree_digest(tmp_path / "a")
    assert first == tree_digest(tmp_path / "a2") == tree_digest(tmp_path / "b")


@pytest.fixture()
def bad_raw(raw, tmp_path):
    """The tiny data set plus one of every kind of bad input."""
    root = tmp_path / "bad"
    shutil.copytree(raw, root)
    syn = root / "synthetic"
    good = (syn / "1.jpg").read_bytes()
    ann = json.loads((syn / "1.json").read_text())
    (syn / "101.jpg").write_bytes(good[: len(good) // 3])                     # truncated jpg
    (syn / "102.jpg").write_bytes(good[:2] + bytes(300) + good[-2:])          # corrupt jpg
    (syn / "103.jpg").write_bytes(good)
    (syn / "104.jpg").write_bytes(good)
    (syn / "105.jpg").write_bytes(good)
    for stem in ("101", "102"):
        (syn / f"{stem}.json").write_text(json.dumps(ann))
    (syn / "103.json").write_text(json.dumps({k: v for k, v in ann.items() if k != "iris_2d"}))  # missing key
    (syn / "104.json").write_text(json.dumps({**ann, "head_pose": "(nan, 180.0, 0.0)"}))   # NaN
    (syn / "105.json").write_text(json.dumps({**ann, "eye_details": {**ann["eye_details"], "look_vec": 3}}))  # type
    write_unityeyes(syn, "106", ann, size=(320, 240))                         # wrong image size
    (syn / "Thumbs.db").write_bytes(b"\0\1")                                   # stray file
    mat_dir = root / "real" / "Data" / "Normalized" / "p02"
    shape = {"image": np.zeros((2, 40, 40), np.uint8), "gaze": np.zeros((2, 3)), "pose": np.zeros((2, 3))}
    write_mat(mat_dir / "day09.mat", shape, shape, ["a", "b"])                 # wrong shapes
    scipy.io.savemat(mat_dir / "day10.mat", {"left": np.zeros(2)})             # wrong keys
    (mat_dir / "notes.txt").write_text("stray")
    return root


def test_bad_input_is_rejected_with_file_and_reason(bad_raw, tmp_path):
    out = tmp_path / "data"
    result = ingest_eyes(params(tmp_path, max_reject_fraction=0.2), bad_raw / "synthetic", bad_raw / "real", out)
    rejected = {}
    for split in ("synthetic", "real_train", "real_holdout", "real_val", "real_test"):
        for line in (split_dir(out, split) / "rejected.jsonl").read_text().splitlines():
            rec = json.loads(line)
            rejected[rec["file"]] = rec["reason"]
        counts = read_dataset_info(split_dir(out, split))["counts"]
        assert counts["in"] == counts["written"] + counts["rejected"]
    expect = {"101.jpg": "truncated", "102.jpg": "corrupt", "103.jpg": "iris_2d", "104.jpg": "head_pose",
              "105.jpg": "look_vec", "106.jpg": "outside the 320x240", "Thumbs.db": "not a UnityEyes file",
              "p02/day09.mat": "data.left.image has shape (2, 40, 40)", "p02/day10.mat": "missing variable 'data'",
              "p02/notes.txt": "not an MPIIGaze day file"}
    for name, reason in expect.items():
        hits = [r for f, r in rejected.items() if f.endswith(name)]
        assert hits and reason in hits[0], (name, rejected)
    assert result["counts"]["synthetic"] == {"in": 67, "written": 60, "rejected": 7}
    assert result["counts"]["real_val"]["rejected"] == 3  # p02's bad day files


def test_too_many_rejects_fail_naming_the_worst_files(bad_raw, tmp_path):
    with pytest.raises(RejectionError) as e:
        ingest_eyes(params(tmp_path, max_reject_fraction=0.05), bad_raw / "synthetic", bad_raw / "real",
                    tmp_path / "data")
    msg = str(e.value)
    assert "synthetic" in msg and "7/67" in msg and "101.jpg" in msg


def test_empty_real_folder_fails_clearly(raw, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RejectionError) as e:
        ingest_eyes(params(tmp_path), raw / "synthetic", tmp_path / "empty", tmp_path / "data")
    rejected = "".join((split_dir(tmp_path / "data", s) / "rejected.jsonl").read_text()
                       for s in ("real_train", "real_holdout", "real_val", "real_test"))
    assert "empty folder" in rejected and str(tmp_path / "empty") in rejected
    assert "real_t" in str(e.value)


def test_head_pose_filter_is_not_counted_as_bad_input(raw, tmp_path):
    out = tmp_path / "data"
    p = params(tmp_path, head_pose_max_deg=10.0, max_reject_fraction=0.0)
    result = ingest_eyes(p, raw / "synthetic", raw / "real", out)  # no RejectionError
    filtered = result["counts"]["synthetic"]["rejected"]
    assert 0 < filtered < 60
    lines = (split_dir(out, "synthetic") / "rejected.jsonl").read_text().splitlines()
    assert all(json.loads(x)["reason"].startswith("filtered: head pose") for x in lines)


def test_interleave_spreads_groups_and_keeps_their_order():
    from pipeline.ingest.common import interleave
    light, heavy = [f"r{i}" for i in range(100)], ["m0", "m1", "m2", "m3"]
    out = interleave(light, heavy)
    assert sorted(out) == sorted(light + heavy)
    assert [x for x in out if x.startswith("r")] == light and [x for x in out if x.startswith("m")] == heavy
    positions = [out.index(m) for m in heavy]
    assert positions[0] > 5 and positions[-1] < 95 and min(b - a for a, b in zip(positions, positions[1:])) > 20


def test_participant_ids_that_match_no_folder_are_named(raw, tmp_path):
    (tmp_path / "params.yaml").write_text("seed: 0\n")
    p = load_params(tmp_path / "params.yaml", {"ingest": {"workers": 1, "shard_size": 25}, "eyes": {
        "ingest": {"test_participants": ["p00", "p99"], "val_participants": ["p02"]}}})
    with pytest.raises(ParamsError, match=r"eyes\.ingest\.test_participants: p99 match no participant folder"):
        ingest_eyes(p, raw / "synthetic", raw / "real", tmp_path / "data")
    assert not (tmp_path / "data").exists()  # refused before anything is written
