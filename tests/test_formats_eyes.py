"""Eye readers on small files in the public layouts, and the crop transform."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
import scipy.io

from eyes_fixtures import REAL_UNITYEYES_JSON, mpii_eye, real_unityeyes_json, write_mpii_day, write_unityeyes
from pipeline.crops import eyes as crops
from pipeline.formats import folder, kaggle_h5, mpiigaze, unityeyes
from pipeline.shards import Reject, Sample


def only(records):
    assert len(records) == 1, records
    return records[0]


# ---------------------------------------------------------------- UnityEyes
def test_real_unityeyes_annotation_parses_with_facts_from_design():
    ann = real_unityeyes_json()
    geom = unityeyes.parse_annotation(ann, 480)
    assert geom["interior_margin"].shape == (16, 2) and geom["iris"].shape == (32, 2)
    assert geom["caruncle"].shape == (7, 2)
    # "(371.4855, 296.4230, 8.8595)" -> image y = 480 - 296.4230
    assert geom["interior_margin"][0] == pytest.approx([371.4855, 480 - 296.4230])
    look = np.array([0.3404, 0.3879, -0.8566]) / np.linalg.norm([0.3404, 0.3879, -0.8566])
    assert geom["pitch"] == pytest.approx(math.asin(look[1]), abs=1e-6) and geom["pitch"] > 0
    assert geom["yaw"] == pytest.approx(math.atan2(-look[0], -look[2]), abs=1e-6)
    # GazeML wrap of "(355.0770, 203.8451, 0.0000)"
    assert geom["head_pose_deg"] == pytest.approx((-4.923, 23.8451, 0.0), abs=1e-4)
    # looking up: the iris sits above the eye-margin centre in image coordinates
    margin = geom["interior_margin"]
    assert geom["iris"].mean(0)[1] < (margin.min(0)[1] + margin.max(0)[1]) / 2


GAZE_LABELS_SCRIPT = """
import json, sys
import numpy as np
from pipeline.formats import kaggle_h5, unityeyes
ann = json.loads(open(sys.argv[1]).read())
out = []
for v in np.random.default_rng(0).normal(size=(2000, 3)):
    ann["eye_details"]["look_vec"] = "(%r, %r, %r, 0.0)" % tuple(float(c) for c in v)
    geom = unityeyes.parse_annotation(ann, 480)
    out.append([geom["pitch"], geom["yaw"], kaggle_h5.look_vec_labels(v)["gaze"]])
print(json.dumps(out))
"""


def test_gaze_labels_are_the_same_bits_under_every_blas_kernel():
    # OpenBLAS picks its kernels per CPU; a label computed through BLAS (np.linalg.norm of a vector
    # is a dot) differed in its last digit between hosts, and so did the shards' bytes
    def labels(kernel: str) -> str:
        env = {**os.environ, "OPENBLAS_CORETYPE": kernel}
        return subprocess.run([sys.executable, "-c", GAZE_LABELS_SCRIPT, str(REAL_UNITYEYES_JSON)], env=env,
                              cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True,
                              check=True).stdout
    generic = labels("Prescott")  # SSE3 kernels, which any x86-64 runs
    assert len(json.loads(generic)) == 2000 and labels("Haswell") == generic


def test_unityeyes_render_crop_landmarks_and_head_pose_filter(tmp_path):
    ann = real_unityeyes_json()
    jpg = write_unityeyes(tmp_path, "1", ann)
    kept = only(unityeyes.read_render(str(jpg), str(tmp_path), head_pose_max_deg=30))
    assert isinstance(kept, Sample) and kept.image.shape == (35, 55) and kept.image.dtype == np.uint8
    crop, labels = kept.meta["crop"], kept.meta["labels"]
    geom = unityeyes.parse_annotation(ann, 480)
    lo, hi = geom["interior_margin"].min(0), geom["interior_margin"].max(0)
    # the box scales with the eye: 1.35x its 125 px corner-to-corner width, the 140:84 aspect
    assert crop["box"] == [169, 101] and crop["out"] == [55, 35] and crop["src_size"] == [640, 480]
    assert crops.unityeyes_box(104) == (140, 84) and crops.unityeyes_box(2 * 104) == (281, 169)
    assert np.allclose(crop["center"], (lo + hi) / 2, atol=0.5)
    # landmarks are in crop pixels and go back to the source points
    iris_src = crops.points_from_crop(np.array(labels["landmarks"]["iris"]), crop)
    assert np.allclose(iris_src, geom["iris"], atol=2e-3)
    assert labels["landmarks"]["iris_center"] == pytest.approx(np.mean(labels["landmarks"]["iris"], 0), abs=2e-3)
    # the crop really is that box of the grey image
    grey = cv2.imread(str(jpg), cv2.IMREAD_GRAYSCALE)
    (bw, bh) = crop["box"]
    x0, y0 = int(round(crop["center"][0] - bw / 2)), int(round(crop["center"][1] - bh / 2))
    expect = cv2.resize(grey[y0:y0 + bh, x0:x0 + bw], (55, 35), interpolation=cv2.INTER_AREA)
    assert np.array_equal(kept.image, expect)
    assert labels["gaze"]["pitch"] == pytest.approx(geom["pitch"])
    # head yaw 23.8 deg: GazeML's +-20 deg filter drops it, with a reason saying so
    dropped = only(unityeyes.read_render(str(jpg), str(tmp_path), head_pose_max_deg=20))
    assert isinstance(dropped, Reject) and dropped.reason.startswith("filtered:") and "head pose" in dropped.reason


@pytest.mark.parametrize("mutate, expect", [
    (lambda a: a.pop("iris_2d"), "iris_2d"),
    (lambda a: a["eye_details"].pop("look_vec"), "look_vec"),
    (lambda a: a.__setitem__("head_pose", 12.5), "head_pose"),
    (lambda a: a["interior_margin_2d"].__setitem__(3, "(nan, 1.0, 2.0)"), "interior_margin_2d[3]"),
    (lambda a: a["iris_2d"].__setitem__(0, [1.0, 2.0, 3.0]), "iris_2d[0]"),
    (lambda a: a["eye_details"].__setitem__("look_vec", "(0, 0, 0, 0)"), "look_vec"),
    (lambda a: a.__setitem__("caruncle_2d", a["caruncle_2d"][:3]), "caruncle_2d"),
])
def test_unityeyes_bad_json_is_rejected_with_the_field(tmp_path, mutate, expect):
    ann = real_unityeyes_json()
    mutate(ann)
    jpg = write_unityeyes(tmp_path, "7", ann)
    rec = only(unityeyes.read_render(str(jpg), str(tmp_path), 180))
    assert isinstance(rec, Reject) and rec.source == "7.jpg" and expect in rec.reason


def test_unityeyes_bad_images_are_rejected(tmp_path):
    ann = real_unityeyes_json()
    good = write_unityeyes(tmp_path, "1", ann)
    data = good.read_bytes()
    (tmp_path / "2.jpg").write_bytes(data[: len(data) // 2])           # truncated
    (tmp_path / "3.jpg").write_bytes(data[:2] + b"garbage" * 50 + data[-2:])  # corrupt
    (tmp_path / "4.jpg").write_bytes(b"")                                # empty
    for stem in "234":
        (tmp_path / f"{stem}.json").write_text(json.dumps(ann))
    write_unityeyes(tmp_path, "5", ann, size=(320, 240))                  # wrong size for its json
    (tmp_path / "6.json").write_text("{not json")
    (tmp_path / "6.jpg").write_bytes(data)
    (tmp_path / "8.json").write_text(json.dumps(ann))                    # no image
    (tmp_path / "notes.txt").write_text("stray")
    reasons = {}
    for item in unityeyes.list_renders(tmp_path):
        for rec in unityeyes.read_item(item, str(tmp_path), 180):
            reasons[rec.source if isinstance(rec, Reject) else rec.meta["source"]] = getattr(rec, "reason", "ok")
    assert reasons["1.jpg"] == "ok"
    assert "truncated" in reasons["2.jpg"]
    assert "corrupt" in reasons["3.jpg"]
    assert "empty" in reasons["4.jpg"]
    assert "outside the 320x240 image" in reasons["5.jpg"]
    assert "not valid JSON" in reasons["6.jpg"]
    assert "without its image" in reasons["8.json"]
    assert "not a UnityEyes file" in reasons["notes.txt"]
    assert "1.json" not in reasons  # an annotation with its image is part of that render


def test_unityeyes_writer_round_trips_point_strings():
    xy = np.array([[[10.5, 20.25], [300.0, 470.0]]])
    strings = unityeyes.points_json(xy, np.array([8.9, 9.0]), 480)[0]
    assert strings == ["(10.5000, 459.7500, 8.9000)", "(300.0000, 10.0000, 9.0000)"]
    pts = unityeyes.parse_points({"iris_2d": strings * 16}, "iris_2d", 480)
    assert np.allclose(pts[:2], xy[0])


# ---------------------------------------------------------------- MPIIGaze
def test_mpiigaze_day_file_loads_both_ways_and_reads_both_eyes(tmp_path):
    path = write_mpii_day(tmp_path, "p03", 1, n=3, pitch=0.1, yaw=0.2)
    default = scipy.io.loadmat(path)  # MATLAB-struct access, as older public readers use
    assert default["data"]["left"][0, 0]["image"][0, 0].shape == (3, 36, 60)
    assert default["filenames"].shape == (3, 1)
    squeezed = scipy.io.loadmat(path, struct_as_record=False, squeeze_me=True)
    assert squeezed["data"].right.gaze.shape == (3, 3) and squeezed["data"].left.image.dtype == np.uint8

    recs = mpiigaze.read_mat(str(path), str(tmp_path))
    assert len(recs) == 6 and all(isinstance(r, Sample) for r in recs)
    left, right = recs[0], recs[3]
    assert left.key == "mp-p03-day01-l0000" and right.key == "mp-p03-day01-r0000"
    assert left.meta["source"] == "Data/Normalized/p03/day01.mat#left/0"
    assert left.image.shape == (35, 55) and not left.meta["crop"]["flip"] and right.meta["crop"]["flip"]
    # the right eye is mirrored: its bright band (left third of the stored image) is now on the right
    assert right.image[:, -15:].mean() > right.image[:, :15].mean() + 100
    assert left.image[:, :15].mean() > left.image[:, -15:].mean() + 100
    # gaze: pitch = asin(-g.y), yaw = atan2(-g.x, -g.z); right eyes (stored with yaw -0.2) read as 0.2
    for rec in (left, right):
        assert rec.meta["labels"]["gaze"]["pitch"] == pytest.approx(0.1)
        assert rec.meta["labels"]["gaze"]["yaw"] == pytest.approx(0.2)
    # head pose: pitch/yaw from the Rodrigues rotation's z column, as hysts' convert_pose
    pose = scipy.io.loadmat(path, struct_as_record=False, squeeze_me=True)["data"].left.pose[0]
    rot = cv2.Rodrigues(pose)[0]
    expect = np.degrees([math.asin(rot[1, 2]), math.atan2(rot[0, 2], rot[2, 2])])
    assert left.meta["labels"]["head_pose_deg"][:2] == pytest.approx(expect, abs=1e-3)


def test_mpiigaze_single_frame_day_survives_squeeze(tmp_path):
    path = write_mpii_day(tmp_path, "p00", 2, n=1)
    recs = mpiigaze.read_mat(str(path), str(tmp_path))
    assert [type(r) for r in recs] == [Sample, Sample]


def test_mpiigaze_bad_files_are_rejected(tmp_path):
    base = tmp_path / "Data" / "Normalized" / "p01"
    bad_shape = mpii_eye(2, 0, 0)
    bad_shape["image"] = np.zeros((2, 30, 50), np.uint8)
    mpiigaze.write_mat(base / "day01.mat", bad_shape, mpii_eye(2, 0, 0), ["a", "b"])
    scipy.io.savemat(base / "day02.mat", {"stuff": np.zeros(3)})
    (base / "day03.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b"\0" * 20)
    nan_row = mpii_eye(3, 0.1, 0.1)
    nan_row["gaze"][1] = np.nan
    mpiigaze.write_mat(base / "day04.mat", nan_row, mpii_eye(3, 0.1, 0.1), ["a", "b", "c"])
    (base / "readme.txt").write_text("stray")
    out = {p.name: mpiigaze.read_mat(str(p), str(tmp_path)) for p in sorted(base.iterdir())}
    assert "data.left.image has shape (2, 30, 50)" in only(out["day01.mat"]).reason
    assert "missing variable 'data'" in only(out["day02.mat"]).reason
    assert "not a readable .mat" in only(out["day03.mat"]).reason
    assert "not an MPIIGaze day file" in only(out["readme.txt"]).reason
    day4 = out["day04.mat"]
    assert len(day4) == 6 and sum(isinstance(r, Reject) for r in day4) == 1
    assert day4[1].source.endswith("day04.mat#left/1") and "non-finite" in day4[1].reason


# ---------------------------------------------------------------- Kaggle h5
def test_kaggle_gaze_h5_with_and_without_labels(tmp_path):
    rng = np.random.default_rng(0)
    with h5py.File(tmp_path / "gaze.h5", "w") as f:
        g = f.create_group("image")
        for i in range(5):
            g.create_dataset(f"img{i}", data=rng.integers(0, 255, (35, 55), dtype=np.uint8))
        g.create_dataset("img5", data=np.zeros((36, 60), np.uint8))  # wrong size
        look = np.tile([0.2, 0.3, -0.9], (6, 1))
        look[2] = np.nan
        f.create_dataset("look_vec", data=look)
        f.create_dataset("path", data=np.array([b"x"] * 6))
    with h5py.File(tmp_path / "real_gaze.h5", "w") as f:
        f.create_group("image").create_dataset("0", data=np.full((35, 55), 7, np.uint8))
    (tmp_path / "broken.h5").write_bytes(b"not hdf5")

    items = kaggle_h5.list_slices(tmp_path / "gaze.h5", chunk=4)
    assert items == [(str(tmp_path / "gaze.h5"), 0, 4), (str(tmp_path / "gaze.h5"), 4, 6)]
    recs = [r for it in items for r in kaggle_h5.read_slice(it, str(tmp_path))]
    assert [type(r).__name__ for r in recs] == ["Sample", "Sample", "Reject", "Sample", "Sample", "Reject"]
    assert "bad look_vec" in recs[2].reason and "expected uint8 (35, 55)" in recs[5].reason
    g = recs[0].meta["labels"]["gaze"]
    unit = np.array([0.2, 0.3, -0.9]) / np.linalg.norm([0.2, 0.3, -0.9])
    assert g["pitch"] == pytest.approx(math.asin(unit[1])) and g["yaw"] == pytest.approx(math.atan2(-unit[0], -unit[2]))
    real = only(kaggle_h5.read_slice(kaggle_h5.list_slices(tmp_path / "real_gaze.h5")[0], str(tmp_path)))
    assert "labels" not in real.meta and (real.image == 7).all()
    broken = only(kaggle_h5.read_slice(kaggle_h5.list_slices(tmp_path / "broken.h5")[0], str(tmp_path)))
    assert isinstance(broken, Reject) and "not a usable eye-gaze h5" in broken.reason


# ---------------------------------------------------------------- plain folder
def test_folder_of_crops_any_size_grey_or_colour(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.full((36, 60), 100, np.uint8))
    cv2.imwrite(str(tmp_path / "b.jpg"), np.full((200, 100, 3), (10, 200, 60), np.uint8))
    cv2.imwrite(str(tmp_path / "c16.png"), np.full((70, 110), 40000, np.uint16))
    (tmp_path / "sub").mkdir()
    cv2.imwrite(str(tmp_path / "sub" / "d.png"), np.zeros((40, 400, 4), np.uint8))
    cv2.imwrite(str(tmp_path / "tiny.png"), np.zeros((4, 4), np.uint8))
    good = (tmp_path / "b.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(good[:-40])
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "fake.png").write_bytes(b"\x89PNG garbage")
    recs = {}
    for item in folder.list_images(tmp_path):
        rec = only(folder.read_image(item, str(tmp_path)))
        recs[rec.source if isinstance(rec, Reject) else rec.meta["source"]] = rec
    for name in ("a.png", "b.jpg", "c16.png", "sub/d.png"):
        rec = recs[name]
        assert isinstance(rec, Sample) and rec.image.shape == (35, 55) and "labels" not in rec.meta
    assert recs["b.jpg"].meta["crop"]["box"][0] / recs["b.jpg"].meta["crop"]["box"][1] == pytest.approx(55 / 35, rel=0.02)
    assert int(recs["c16.png"].image.mean()) == 40000 >> 8
    assert "too small" in recs["tiny.png"].reason
    assert "truncated" in recs["cut.jpg"].reason
    assert "not an image file" in recs["notes.txt"].reason
    assert "does not decode" in recs["fake.png"].reason
    assert len({r.key for r in recs.values() if isinstance(r, Sample)}) == 4


# ---------------------------------------------------------------- crop transform
def test_crop_points_round_trip_and_flip():
    meta = crops.crop_meta((100.3, 50.8), (140, 84), (55, 35), (640, 480), flip=True)
    assert meta["center"] == [100.0, 51.0]
    pts = np.array([[31.0, 9.0], [100.0, 51.0], [169.0, 92.0]])
    back = crops.points_from_crop(crops.points_to_crop(pts, meta), meta)
    assert np.allclose(back, pts)
    mid = crops.points_to_crop(np.array([[100.0 - 0.5, 51.0 - 0.5]]), meta)  # box centre in pixel-centre coords
    assert np.allclose(mid, [[(55 - 1) / 2, (35 - 1) / 2]])


def test_crop_beyond_the_border_replicates_edges():
    img = np.tile(np.arange(60, dtype=np.uint8), (40, 1))
    meta = crops.crop_meta((5, 20), (20, 10), (20, 10), (60, 40))
    crop = crops.apply_crop(img, meta)
    assert crop.shape == (10, 20) and (crop[:, :5] == 0).all() and (crop[:, 5:] == np.arange(15)).all()


def test_normalize_denormalize_round_trip():
    img = np.arange(256, dtype=np.uint8).reshape(16, 16)
    x = crops.normalize(img, {})
    assert x.dtype == np.float32 and x.min() == -1 and x.max() == 1
    assert np.array_equal(crops.denormalize(x, {}), img)
    assert crops.denormalize(np.array([[-3.0, 3.0]]), {}).tolist() == [[0, 255]]
