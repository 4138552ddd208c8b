"""Bad input gets a named reject (file + what is wrong), never a traceback, in every reader."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import byo_fixtures as fx
from pipeline.errors import RejectionError
from pipeline.formats import folder, kaggle_h5, mpiigaze, nyu, unityeyes
from pipeline.ingest import eyes as ingest_eyes_mod
from pipeline.ingest.hands import Frame, ingest_hands, list_split, load_frame
from pipeline.params import HandIngest, Params, load_params
from pipeline.shards import Reject

ROOT = Path(__file__).resolve().parent.parent


def cut_in_idat(png: bytes) -> bytes:
    """The PNG cut halfway through its first IDAT chunk's data."""
    at = png.index(b"IDAT")
    length = int.from_bytes(png[at - 4:at], "big")
    return png[:at + 4 + length // 2]


def mat_cases(tmp_path: Path) -> dict[str, Path]:
    good = fx.write_nyu_split(tmp_path / "good", 2, seed=1) / "joint_data.mat"
    cases = {"empty": b"", "truncated": good.read_bytes()[:len(good.read_bytes()) // 2],
             "not MAT": b"joint_uvd,joint_xyz\n1,2\n"}
    out = {}
    for name, data in cases.items():
        p = tmp_path / name.replace(" ", "_") / "joint_data.mat"
        p.parent.mkdir()
        p.write_bytes(data)
        out[name] = p
    return out


@pytest.mark.parametrize("case", ["empty", "truncated", "not MAT"])
def test_a_bad_joint_data_mat_is_a_named_format_error(tmp_path, case):
    with pytest.raises(nyu.NyuFormatError, match="not a readable .mat file"):
        nyu.read_joint_data(mat_cases(tmp_path)[case])


@pytest.mark.parametrize("case", ["empty", "truncated", "not MAT"])
def test_ingest_rejects_every_frame_of_a_split_with_a_bad_joint_data_mat(tmp_path, case):
    split = fx.write_nyu_split(tmp_path / "test", 3, seed=2)
    shutil.copy(mat_cases(tmp_path)[case], split / "joint_data.mat")
    frames = list_split(split, "real_test", 1, tmp_path)
    assert len(frames) == 3
    recs = [r for f in frames for r in load_frame(f, HandIngest())]
    assert all(isinstance(r, Reject) and r.reason.startswith("joint_data.mat: not a readable .mat file") for r in recs)


def test_a_bad_joint_data_mat_fails_ingest_naming_the_file(tmp_path):
    root = fx.write_nyu(tmp_path / "nyu", n_train=3, n_test=3)
    (root / "test" / "joint_data.mat").write_bytes(b"")
    syn = fx.write_nyu_split(tmp_path / "syn", 3, seed=3, prefix="synthdepth")
    with pytest.raises(RejectionError, match=r"(?s)real_test: rejected 3/3 .*test/depth_1_000000\d\.png .*joint_data.mat: not a readable"):
        ingest_hands(replace(Params(), hands=replace(Params().hands, ingest=HandIngest(size=32, val_sequences=[]))),
                     syn, root, tmp_path / "out")


def test_an_mpiigaze_day_file_missing_an_eye_is_rejected(tmp_path):
    day = fx.write_mpii_day_file(tmp_path / "Data" / "Normalized" / "p00" / "day01.mat", 3, seed=1, sides=("left",))
    recs = mpiigaze.read_mat(str(day), str(tmp_path))
    assert len(recs) == 1 and isinstance(recs[0], Reject)
    assert recs[0].source == "Data/Normalized/p00/day01.mat" and "missing field data.right" in recs[0].reason


def test_a_non_utf8_unityeyes_json_is_rejected(tmp_path):
    folder_ = fx.write_unityeyes(tmp_path / "ue", 2)
    text = (folder_ / "2.json").read_text()
    (folder_ / "2.json").write_bytes(text.replace("eyeball_brown", "eyeball_br\u00f6wn").encode("latin-1"))
    ok, bad = (unityeyes.read_render(str(folder_ / f"{i}.jpg"), str(folder_), 90.0) for i in (1, 2))
    assert not isinstance(ok[0], Reject)
    assert isinstance(bad[0], Reject) and bad[0].source == "2.jpg" and "2.json is not UTF-8" in bad[0].reason


def test_a_png_cut_short_in_its_idat_is_rejected_by_both_png_readers(tmp_path):
    crops = fx.write_crops(tmp_path / "crops", groups=("a",), per_group=1)
    png = crops / "a" / "frame000.png"
    png.write_bytes(cut_in_idat(png.read_bytes()))
    rec = folder.read_image(str(png), str(crops))
    assert isinstance(rec[0], Reject) and rec[0].source == "a/frame000.png" and "truncated PNG" in rec[0].reason

    split = fx.write_nyu_split(tmp_path / "test", 2, seed=2)
    frame = split / "depth_1_0000002.png"
    frame.write_bytes(cut_in_idat(frame.read_bytes()))
    with pytest.raises(nyu.NyuFormatError, match="truncated PNG"):
        nyu.read_depth(frame)
    recs = [r for f in list_split(split, "real_test", 1, tmp_path) for r in load_frame(f, HandIngest(size=32))]
    assert not isinstance(recs[0], Reject)
    assert isinstance(recs[1], Reject) and recs[1].source == "test/depth_1_0000002.png" and "truncated PNG" in recs[1].reason


def test_a_folder_that_does_not_exist_is_a_named_reject_in_every_reader(tmp_path):
    gone = tmp_path / "gone"
    for fmt in ("unityeyes", "mpiigaze", "folder"):
        items = ingest_eyes_mod.list_items(gone, fmt)
        recs = ingest_eyes_mod.read_item(items[0], str(gone), fmt, 20.0, (55, 35))
        assert len(items) == 1 and isinstance(recs[0], Reject) and "does not exist" in recs[0].reason, fmt
    recs = kaggle_h5.read_slice(kaggle_h5.list_slices(gone / "gaze.h5")[0], str(tmp_path))
    assert isinstance(recs[0], Reject) and recs[0].source == "gone/gaze.h5" and "not a usable eye-gaze h5" in recs[0].reason
    frames = list_split(gone / "train", "real_train", 1, tmp_path)
    assert len(frames) == 1 and isinstance(frames[0], Frame)
    rec = load_frame(frames[0], HandIngest())[0]
    assert isinstance(rec, Reject) and rec.source == "gone/train" and "does not exist" in rec.reason
