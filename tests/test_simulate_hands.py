"""The embedded hand simulator: NYU files, determinism, depth where the labels say, Kinect effects."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.formats import nyu
from pipeline.params import HandSimulate
from pipeline.simulate import hands, hands_kinect, hands_model, hands_render, hands_scene

EVAL = list(nyu.EVAL_JOINTS)
SMALL = HandSimulate(n_synthetic=5, n_real_train=4, n_real_test=3, workers=1)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("raw")
    assert hands.simulate_hands(root, SMALL, seed=3) == {"synthetic": 5, "real_train": 4, "real_test": 3}
    return root


def test_writes_nyu_files_exactly(raw):
    names = set(files(raw))
    assert names == set([f"real/test/depth_1_000000{i}.png" for i in (1, 2, 3)] + ["real/test/joint_data.mat"]
                     + [f"real/train/depth_1_000000{i}.png" for i in (1, 2, 3, 4)] + ["real/train/joint_data.mat"]
                     + [f"synthetic/synthdepth_1_000000{i}.png" for i in range(1, 6)] + ["synthetic/joint_data.mat"])
    for split, n in (("synthetic", 5), ("real/train", 4)):
        joints = nyu.read_joint_data(raw / split / "joint_data.mat")
        assert joints.uvd.shape == (n, 36, 3) and np.allclose(nyu.xyz_to_uvd(joints.xyz), joints.uvd)
        assert (joints.uvd[..., 2] > 300).all()  # hands at ~0.5-0.9 m, joints in front of the camera
        bgr = cv2.imread(str(next((raw / split).glob("*.png"))), cv2.IMREAD_UNCHANGED)
        assert bgr.shape == (480, 640, 3) and bgr.dtype == np.uint8 and not bgr[..., 2].any()


def test_deterministic_per_seed_and_independent_of_workers(raw, tmp_path):
    again = tmp_path / "again"
    hands.simulate_hands(again, HandSimulate(**{**SMALL.__dict__, "workers": 2}), seed=3)
    assert files(again) == files(raw)
    other = tmp_path / "other"
    hands.simulate_split(other, "synthetic", 2, SMALL, seed=4)
    first = "synthdepth_1_0000001.png"
    assert (other / first).read_bytes() != (raw / "synthetic" / first).read_bytes()
    fewer = tmp_path / "fewer"  # frame i does not depend on how many frames were asked for
    hands.simulate_split(fewer, "real_train", 2, SMALL, seed=3)
    assert (fewer / "depth_1_0000002.png").read_bytes() == (raw / "real/train/depth_1_0000002.png").read_bytes()


def test_hand_pose_is_articulated_within_limits():
    rng = np.random.default_rng(0)
    pose = hands_model.sample_poses(rng, 500)
    assert pose["mcp"].min() >= -10 and pose["mcp"].max() <= 90 and pose["pip"].max() <= 110
    assert pose["dip"].max() <= 80 and pose["th_opp"].max() <= 60
    pts = hands_model.hand_points(pose, 270.0)
    # bones keep their lengths whatever the pose (index finger: MCP->PIP->DIP->tip)
    tip, dip, _, pip, _, mcp = (pts[:, i] for i in hands_model.finger_points(3))
    lengths = [np.linalg.norm(b - a, axis=1) for a, b in ((mcp, pip), (pip, dip), (dip, tip))]
    assert np.allclose(lengths, hands_model.LENGTHS[3][:, None])
    # poses differ: fist and open hands both occur (fingertip to palm centre distance)
    reach = np.linalg.norm(pts[:, 12] - hands_model.PALM_CENTER, axis=1)
    assert reach.min() < 60 and reach.max() > 120
    place = hands_model.sample_placements(rng, 500, 500, 900)
    cam = hands_model.pose_hands(pts, place)
    assert 480 < cam[:, hands_model.PALM_3_IDX, 2].min() and cam[:, hands_model.PALM_3_IDX, 2].max() < 920
    forearm = cam[:, hands_model.ARM_B] - cam[:, hands_model.ARM_A]
    assert (forearm[:, 2] > -0.35 * np.linalg.norm(forearm, axis=1)).all()  # never pointing at the camera


def rendered(real: bool, n: int, seed: int):
    """(labels uvd (n, 36, 3), hand scales, clean depths, decoded PNG depths) of n frames; a
    real-like frame's clean depth is the same hand rendered without clutter or sensor effects."""
    rng = np.random.default_rng(seed)
    points, scales = hands.sample_hands(rng, n, real, HandSimulate())
    room = hands_scene.sample_room(rng, hands.REAL_STEP, 500.0, 900.0) if real else None
    clean = [hands.render_frame(points[i], scales[i], rng) for i in range(n)]
    sensed = [nyu.decode_depth(nyu.encode_depth(hands.render_frame(points[i], scales[i], rng, room)))
              for i in range(n)]
    return nyu.xyz_to_uvd(points[:, :36]), scales, clean, sensed


@pytest.mark.parametrize("real, tolerance_mm", [(False, 1.0), (True, 5.0)])
def test_decoded_depth_at_visible_joints_matches_their_depth(real, tolerance_mm):
    """A joint is the centre of the spheres its bones meet in, so where nothing else is in front
    of it, the surface on its pixel lies that radius in front of the labelled d (as on NYU's real
    frame, 3-33 mm). Visible = the clean render shows nothing nearer than that surface within the
    sensor's reach (REACH px: its 2x2 grid and one-cell jitter) and the sensor has depth there."""
    n = 12
    uvd, scales, clean, sensed = rendered(real, n, seed=11)
    reach = 3 if real else 0
    errors = []
    for k in range(n):
        u, v, d = np.rint(uvd[k, EVAL, 0]).astype(int), np.rint(uvd[k, EVAL, 1]).astype(int), uvd[k, EVAL, 2]
        inside = (u >= reach) & (u < 640 - reach) & (v >= reach) & (v < 480 - reach)
        u, v = u.clip(reach, 639 - reach), v.clip(reach, 479 - reach)
        surface = d - hands_model.joint_radii()[EVAL] * scales[k]
        offsets = range(-reach, reach + 1)
        near = np.stack([clean[k][v + dv, u + du] for dv in offsets for du in offsets])
        near = np.where(near > 0, near, np.inf).min(axis=0)
        visible = inside & (clean[k][v, u] > 0) & (near >= surface - 1.0) & (sensed[k][v, u] > 0)
        errors += list(sensed[k][v, u][visible] - surface[visible])
    errors = np.abs(np.array(errors))
    assert len(errors) >= 0.25 * n * len(EVAL), len(errors)  # dozens of joints checked: not vacuous
    assert errors.max() <= tolerance_mm and np.median(errors) <= tolerance_mm / 2


def test_real_like_frames_have_kinect_effects_and_clutter():
    _, _, clean, sensed = rendered(True, 6, seed=5)
    for hand_only, real in zip(clean, sensed):
        hand = hand_only > 0
        assert (real[~hand] > 0).mean() > 0.1  # body, arm (+ table, wall) behind the hand
        assert (real[hand] == 0).mean() > 0.005  # missing depth on the hand (edges, shadow, holes)
        # quantized disparity: every depth is round(8 bf / k) for an integer k, so steps grow with distance
        valid = real[real > 0].astype(np.float64)
        k = np.rint(hands_kinect.SUBPIXEL * hands_kinect.BF / valid)
        assert np.array_equal(np.rint(hands_kinect.SUBPIXEL * hands_kinect.BF / k), valid)
    _, _, clean, sensed = rendered(False, 3, seed=5)
    assert all(np.array_equal(c, s) for c, s in zip(clean, sensed))  # synthetic: clean, nothing else


def test_spheres_and_capsules_seen_end_on_render_exactly():
    """Rays along a capsule's axis (a = 0 in the cylinder equation) must still hit its end cap."""
    zbuf = hands_render.empty_zbuffer()
    centre = np.array([[0.0, 0.0, 1000.0]])
    hands_render.draw_capsules(zbuf, centre, centre, np.array([50.0]))  # a sphere on the optical axis
    hands_render.draw_capsules(zbuf, np.array([[200.0, 0, 800]]), np.array([[250.0, 0, 1000]]) * [1, 1, 1.25],
                               np.array([20.0]))  # a capsule pointing away from the camera
    assert np.isfinite(zbuf).all() and zbuf.max() == hands_render.FAR
    assert zbuf[240, 320] == pytest.approx(950.0, abs=0.01)
    u = round(320 + 588.03 * 200 / 800)  # the near end's centre: its cap 20 mm along the oblique ray
    assert zbuf[240, u] == pytest.approx(800 - 20 / np.hypot(1, 200 / 800), abs=0.01)
    depth = hands_render.to_depth_mm(zbuf)
    assert depth[0, 0] == 0 and depth[240, 320] == 950


def test_shadow_falls_beside_near_objects():
    z = np.full((4, 640), 2000.0, np.float32)
    z[:, 100:105] = 700.0  # a finger in front of a wall
    shade = hands_kinect.shadow(z)
    width = hands_kinect.BF * (1 / 700 - 1 / 2000)  # ~41 px of wall the projector cannot light
    assert not shade[:, :105].any() and shade[:, 105:105 + int(width)].all() and not shade[:, 107 + int(width):].any()


def test_kinect_steps_are_checked_and_leave_the_input_alone():
    z = np.full((240, 320), 1200, np.float32)
    z[80:160, 100:200] = 700
    before = z.copy()
    with pytest.raises(ValueError, match="unknown Kinect steps.*'noize'"):
        hands_kinect.kinect(z, np.random.default_rng(0), steps=("noize",))
    assert np.array_equal(hands_kinect.kinect(z, np.random.default_rng(0), steps=("shadow",)) > 0,
                          ~hands_kinect.shadow(z))
    assert np.array_equal(z, before)


def test_preview_draws_both_domains(raw, tmp_path):
    out = hands.preview(raw, tmp_path / "simulate-hands.png")
    image = cv2.imread(str(out))
    assert image.shape == (480, 1280, 3)
    assert image[:240].std() > 5 and image[240:].std() > 5
