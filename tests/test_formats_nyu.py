"""NYU hand reader: files written in exactly NYU's layout, and the real NYU test frame."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io

from pipeline.formats import nyu

REAL = Path(__file__).resolve().parent / "data" / "nyu"  # a real NYU test frame; source: tests/data/README.md


def real_labels() -> dict:
    return json.loads((REAL / "depth_1_0000001.labels.json").read_text())


def test_real_nyu_frame_decodes_and_lies_just_in_front_of_its_joints():
    depth = nyu.read_depth(REAL / "depth_1_0000001.png")
    assert depth.shape == (480, 640) and depth.dtype == np.uint16
    assert (depth.min(), depth.max()) == (731, 2001)  # the README's range: (G << 8) | B, not R or G alone
    uvd = np.array(real_labels()["joint_uvd"])
    at_joints = depth[np.rint(uvd[:, 1]).astype(int), np.rint(uvd[:, 0]).astype(int)].astype(float)
    in_front = uvd[:, 2] - at_joints
    # a surface lies a few mm to a few cm in front of joint centres (u, v not swapped either)
    assert (in_front > 0).all() and (in_front < 40).all()
    assert 3 <= np.median(in_front) <= 30


def test_real_frame_bytes_follow_the_documented_channel_layout():
    bgr = cv2.imread(str(REAL / "depth_1_0000001.png"), cv2.IMREAD_UNCHANGED)
    assert bgr.shape == (480, 640, 3) and bgr.dtype == np.uint8 and not bgr[..., 2].any()  # R unused
    expect = bgr[..., 1].astype(np.uint16) << 8 | bgr[..., 0]
    assert np.array_equal(nyu.read_depth(REAL / "depth_1_0000001.png"), expect)


def test_encode_decode_round_trip_in_nyu_channels():
    depth = np.random.default_rng(0).integers(0, 5000, (480, 640)).astype(np.uint16)
    png = nyu.encode_depth(depth)
    bgr = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert bgr.shape == (480, 640, 3) and bgr.dtype == np.uint8
    assert np.array_equal(bgr[..., 1], depth >> 8) and np.array_equal(bgr[..., 0], depth & 255)
    assert not bgr[..., 2].any()
    assert np.array_equal(nyu.decode_depth(png), depth)


@pytest.mark.parametrize("image, says", [
    (np.zeros((480, 640), np.uint16), "16-bit grey"),
    (np.zeros((480, 640, 4), np.uint8), "RGBA"),
    (np.zeros((480, 640), np.uint8), "8-bit grey"),
    (np.zeros((240, 320, 3), np.uint8), "320x240"),
])
def test_depth_png_of_wrong_mode_or_size_is_refused(image, says):
    png = cv2.imencode(".png", image)[1].tobytes()
    with pytest.raises(nyu.NyuFormatError, match=says):
        nyu.decode_depth(png)


def test_undecodable_bytes_are_refused():
    with pytest.raises(nyu.NyuFormatError, match="decodable"):
        nyu.decode_depth(b"not a png")


def write_split(folder: Path, uvd: np.ndarray, prefix: str = "depth") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(len(uvd)):
        depth = np.full((480, 640), 1000 + i, np.uint16)
        (folder / nyu.frame_name(i + 1, 1, prefix)).write_bytes(nyu.encode_depth(depth))
    nyu.write_joint_data(folder / "joint_data.mat", uvd, nyu.uvd_to_xyz(uvd))


def test_written_split_has_nyus_exact_layout_and_reads_back(tmp_path):
    rng = np.random.default_rng(1)
    uvd = np.concatenate([rng.uniform(100, 400, (3, 36, 2)), rng.uniform(600, 900, (3, 36, 1))], -1)
    write_split(tmp_path, uvd)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "depth_1_0000001.png", "depth_1_0000002.png", "depth_1_0000003.png", "joint_data.mat"]
    raw = scipy.io.loadmat(str(tmp_path / "joint_data.mat"))
    assert raw["joint_uvd"].shape == raw["joint_xyz"].shape == (1, 3, 36, 3)  # [kinect][frame, joint, xyz]
    assert [str(n[0]) for n in raw["joint_names"][0]] == list(nyu.JOINT_NAMES)
    joints = nyu.read_joint_data(tmp_path / "joint_data.mat")
    assert np.allclose(joints.uvd, uvd) and joints.names == nyu.JOINT_NAMES
    assert list(nyu.list_frames(tmp_path)) == [1, 2, 3] and nyu.depth_prefix(tmp_path) == "depth"
    assert nyu.read_depth(nyu.list_frames(tmp_path)[2])[0, 0] == 1001
    # byte-identical for identical content (no timestamp in the .mat header)
    first = (tmp_path / "joint_data.mat").read_bytes()
    nyu.write_joint_data(tmp_path / "joint_data.mat", uvd, nyu.uvd_to_xyz(uvd))
    assert (tmp_path / "joint_data.mat").read_bytes() == first


def test_three_kinect_mat_picks_the_asked_camera_and_synthdepth_prefix(tmp_path):
    uvd = np.stack([np.full((2, 36, 3), k + 1.0) for k in range(3)])  # NYU: [kinect][frame, joint, 3]
    scipy.io.savemat(str(tmp_path / "joint_data.mat"), {"joint_uvd": uvd, "joint_xyz": uvd})
    assert nyu.read_joint_data(tmp_path / "joint_data.mat", kinect=2).uvd[0, 0, 0] == 2.0
    with pytest.raises(nyu.NyuFormatError, match="kinect 4"):
        nyu.read_joint_data(tmp_path / "joint_data.mat", kinect=4)
    (tmp_path / "synthdepth_1_0000001.png").write_bytes(nyu.encode_depth(np.zeros((480, 640), np.uint16)))
    assert nyu.depth_prefix(tmp_path) == "synthdepth" and list(nyu.list_frames(tmp_path, 1, "synthdepth")) == [1]
    assert nyu.list_frames(tmp_path, 1, "depth") == {}


def test_mat_with_wrong_shape_is_refused(tmp_path):
    flat = np.zeros((2, 14, 3))  # one camera, 14 joints: not NYU's [kinect][frame, 36, 3]
    scipy.io.savemat(str(tmp_path / "joint_data.mat"), {"joint_uvd": flat, "joint_xyz": flat})
    with pytest.raises(nyu.NyuFormatError, match="joint_uvd has shape"):
        nyu.read_joint_data(tmp_path / "joint_data.mat")


def test_intrinsics_and_uvd_xyz_round_trip():
    # docs/formats.md (NYU): x = (u - cx) d / fx, y = (cy - v) d / fy (camera y up)
    assert nyu.uvd_to_xyz([320 + 588.03, 240 - 587.07, 1000.0]) == pytest.approx([1000.0, 1000.0, 1000.0])
    uvd = np.random.default_rng(2).uniform([0, 0, 300], [640, 480, 2000], (50, 3))
    assert np.allclose(nyu.xyz_to_uvd(nyu.uvd_to_xyz(uvd)), uvd)
    crop_like = {"fx": 500.0, "fy": 500.0, "cx": 300.0, "cy": 200.0, "size": 64}  # any mapping with fx fy cx cy
    assert nyu.uvd_to_xyz([300.0, 200.0, 800.0], crop_like) == pytest.approx([0.0, 0.0, 800.0])


def test_evaluation_joints_are_tips_mids_thumb_and_palm():
    names = [nyu.JOINT_NAMES[i] for i in nyu.EVAL_JOINTS]
    assert names == ["F1_KNU3_A", "F1_KNU2_B", "F2_KNU3_A", "F2_KNU2_B", "F3_KNU3_A", "F3_KNU2_B",
                     "F4_KNU3_A", "F4_KNU2_B", "TH_KNU3_A", "TH_KNU3_B", "TH_KNU2_B", "PALM_1", "PALM_2", "PALM_3"]
