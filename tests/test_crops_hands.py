"""The hand crop: joints in and out of crop pixels, depth inside the cube, where the hand is."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline import crops as domain_crops
from pipeline.crops import hands as crops
from pipeline.formats import nyu
from test_formats_nyu import REAL, real_labels


def random_hand(rng, n=14):
    centre = rng.uniform([150, 120, 500], [490, 360, 1200])
    return centre, centre + rng.normal(0, [25, 25, 30], (n, 3))


@pytest.mark.parametrize("size", [32, 64, 128])
def test_joint_round_trip_through_meta_json_within_half_px_and_1mm(size):
    rng = np.random.default_rng(size)
    for _ in range(20):
        centre, joints = random_hand(rng)
        crop = json.loads(json.dumps(crops.crop_dict(centre, 300.0, size)))  # as stored in meta.json
        in_crop = json.loads(json.dumps(np.round(crops.crop_joints(joints, crop), 3).tolist()))
        back = crops.uncrop_joints(np.array(in_crop), crop)
        assert np.abs(back[:, :2] - joints[:, :2]).max() < 0.5 and np.abs(back[:, 2] - joints[:, 2]).max() < 1.0
        # the crop spans the cube: its centre maps to the middle pixel, +-150 mm to the edges
        mid = crops.crop_uvd([crop["center_uvd"]], crop)[0]
        assert mid[:2] == pytest.approx([(size - 1) / 2] * 2)
        u, v, d = crop["center_uvd"]
        edge = crops.crop_uvd([[u + 150 * crop["fx"] / d, v, d]], crop)[0]
        assert edge[0] == pytest.approx(size - 0.5)


def disk_frame(centre_uv, radius_px, depth_mm, background=0):
    v, u = np.mgrid[0:480, 0:640]
    frame = np.full((480, 640), background, np.uint16)
    frame[(u - centre_uv[0]) ** 2 + (v - centre_uv[1]) ** 2 <= radius_px ** 2] = depth_mm
    return frame


def test_cropped_depth_lands_where_crop_joints_says():
    crop = crops.crop_dict([300.0, 200.0, 800.0], 300.0, 64)
    frame = disk_frame((350.3, 230.7), 12, 790, background=3000)  # a wall beyond the cube
    image = crops.crop_depth(frame, crop)
    assert image.shape == (64, 64) and image.dtype == np.uint16
    rows, cols = np.nonzero(image == 790)
    expect = crops.crop_joints([[350.3, 230.7, 790.0]], crop)[0]
    assert [cols.mean(), rows.mean()] == pytest.approx(expect[:2], abs=0.5)
    # everything else (the wall, and no-depth zeros) is the far plane, which normalizes to exactly +1
    assert set(np.unique(image)) == {790, crops.far_value(crop)}
    x = crops.normalize(image, {"crop": crop})
    assert x.dtype == np.float32 and x.min() >= -1 and x.max() == 1.0
    assert x[image == crops.far_value(crop)].min() == 1.0
    assert x[rows[0], cols[0]] == pytest.approx((790 - 800) / 150)


def test_normalize_denormalize_invert_and_dispatch_by_domain():
    crop = crops.crop_dict([320.0, 240.0, 733.4], 300.0, 32)  # a non-integer centre depth is rounded
    meta = {"crop": crop}
    assert crop["center_uvd"][2] == 733.0
    image = np.random.default_rng(0).integers(583, 884, (32, 32)).astype(np.uint16)
    image[:4] = crops.far_value(crop)
    x = domain_crops.normalize("hands", image, meta)
    assert np.array_equal(domain_crops.denormalize("hands", x, meta), image)
    assert np.array_equal(crops.denormalize(np.full((2, 2), 1.7), meta), np.full((2, 2), crops.far_value(crop)))
    assert crops.denormalize(np.full((1, 1), -1.0), meta)[0, 0] == 733 - 150


def test_center_from_depth_finds_the_nearest_blob_not_the_body_behind():
    frame = disk_frame((200, 180), 30, 700, background=0)
    frame[frame == 0] = 0
    body = disk_frame((400, 300), 120, 1100)
    frame = np.where(frame > 0, frame, body)
    u, v, d = crops.center_from_depth(frame, 300.0, 200.0, 1500.0, 200)
    assert (u, v) == pytest.approx((200, 180), abs=1.5) and d == pytest.approx(700)
    assert crops.center_from_depth(np.zeros((480, 640), np.uint16), 300.0, 200.0, 1500.0, 200) is None
    far_only = np.full((480, 640), 2500, np.uint16)  # beyond max_depth: no hand in range
    assert crops.center_from_depth(far_only, 300.0, 200.0, 1500.0, 200) is None
    tiny = disk_frame((200, 180), 3, 700)  # a few flying pixels are not a hand
    assert crops.center_from_depth(tiny, 300.0, 200.0, 1500.0, 200) is None


def test_center_from_depth_on_the_real_nyu_frame_keeps_the_hand_in_the_crop():
    depth = nyu.read_depth(REAL / "depth_1_0000001.png")
    joints = np.array(real_labels()["joint_uvd"])
    centre = crops.center_from_depth(depth, 300.0, 200.0, 1500.0, 200)
    labelled = crops.center_from_joints(joints)
    assert np.linalg.norm(nyu.uvd_to_xyz(centre) - nyu.uvd_to_xyz(labelled)) < 40  # mm; the forearm is as near
    crop = crops.crop_dict(centre, 300.0, 64)
    in_crop = crops.crop_joints(joints, crop)
    assert (in_crop[:, :2] > 0).all() and (in_crop[:, :2] < 63).all()
    # the labelled centre is the joints' 3D centroid
    assert nyu.uvd_to_xyz(labelled) == pytest.approx(nyu.uvd_to_xyz(joints).mean(0))


def _wide_of_real_frame(depth):
    centre = crops.center_from_depth(depth, 300.0, 200.0, 1500.0, 200)
    wide = crops.wide_crop_dict(centre, 300.0, 64, 1.5)
    return wide, crops.crop_depth(depth, wide)


def test_recrop_label_round_trip_wide_crop_recentre_final_crop():
    """Labels go frame -> context crop (as ingest stores them) -> frame -> final crop exactly, and
    the final crop's pixels, cut from the context crop, are the frame's own pixels there."""
    depth = nyu.read_depth(REAL / "depth_1_0000001.png")
    joints = np.array(real_labels()["joint_uvd"])
    wide, wide_image = _wide_of_real_frame(depth)
    assert wide["size"] == 96 and wide["cube_mm"] == 450.0 and wide_image.shape == (96, 96)
    in_wide = json.loads(json.dumps(np.round(crops.crop_uvd(joints, wide), 3).tolist()))  # as in meta.json
    image, final = crops.recrop(wide_image, wide, 300.0, 64, 200.0, 1500.0, 200)
    assert image.shape == (64, 64) and final["size"] == 64 and final["cube_mm"] == 300.0
    labels = crops.crop_uvd(crops.uncrop_uvd(np.array(in_wide), wide), final)
    assert np.abs(labels - crops.crop_uvd(joints, final)).max() < 2e-3
    assert (labels[:, :2] > 0).all() and (labels[:, :2] < 63).all()
    direct = crops.crop_depth(depth, final)  # the same box cut straight from the frame
    assert np.mean(image == direct) > 0.9  # nearest-neighbour twice: a few pixels repeat
    u, v = np.rint(labels[:, :2]).astype(int).T
    near = direct[v, u] != crops.far_value(final)
    assert near.sum() >= 10 and np.abs(image[v, u][near].astype(int) - direct[v, u][near]).max() < 30
    # centred on the context crop's depth as a frame is on its own: the same hand centre
    centre_frame = crops.center_from_depth(depth, 300.0, 200.0, 1500.0, 200)
    assert np.linalg.norm(nyu.uvd_to_xyz(final["center_uvd"]) - nyu.uvd_to_xyz(centre_frame)) < 15


def test_recrop_after_holes_moves_the_centre_as_the_sensor_does():
    """A refiner that only drops pixels (the fingers, as the sensor loses them) moves the final
    crop's centre where centring the frame with those holes puts it."""
    depth = nyu.read_depth(REAL / "depth_1_0000001.png")
    joints = np.array(real_labels()["joint_uvd"])
    wide, wide_image = _wide_of_real_frame(depth)
    holed = depth.copy()
    vv, uu = np.mgrid[:480, :640]
    for u, v, _ in joints[[0, 2, 4, 6, 8]]:  # around the five fingertips (NYU's evaluation joints)
        holed[(uu - u) ** 2 + (vv - v) ** 2 < 14 ** 2] = 0
    refined = crops.crop_depth(holed, wide)  # R's output: the context crop with the sensor's holes
    assert np.count_nonzero(refined != wide_image) > 20
    moved = crops.recrop(refined, wide, 300.0, 64, 200.0, 1500.0, 200)[1]["center_uvd"]
    kept = crops.recrop(wide_image, wide, 300.0, 64, 200.0, 1500.0, 200)[1]["center_uvd"]
    sensor = crops.center_from_depth(holed, 300.0, 200.0, 1500.0, 200)
    xyz = {k: nyu.uvd_to_xyz(c) for k, c in (("moved", moved), ("kept", kept), ("sensor", sensor))}
    shift = np.linalg.norm(xyz["moved"] - xyz["kept"])
    assert shift > 5  # the holes do move the crop
    assert np.linalg.norm(xyz["moved"] - xyz["sensor"]) < 0.5 * shift  # where the sensor's frame puts it
