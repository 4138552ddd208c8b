"""bench/eye_gap.py's training sets: the real-like appearance model on either eye geometry. The
`camera` set must move its iris as the synthetic renders do (UnityEyes' eyeball, ~1.4x further per
degree than a human eye in corner-framed crops), or the bench's perfect-refiner ceiling is wrong."""
import dataclasses

import numpy as np

from eyes_fixtures import iris_xy
from pipeline.crops import eyes as crops
from pipeline.simulate import eyes_geometry as geo
from pipeline.simulate import eyes_real, eyes_synthetic
from support.bench import bench_module

eye_gap = bench_module("eye_gap")


def iris_x_per_radian(split) -> float:
    """Slope of the pixel-found iris x on the yaw label (negative: yaw < 0 looks to +x)."""
    x = np.array([iris_xy(crops.denormalize(im[0]))[0] for im in split.images])
    return float(np.polyfit(split.targets[:, 1], x, 1)[0])


def test_sets_are_crops_in_the_shards_format_and_deterministic():
    a, b = eye_gap.render_set("camera", 60, seed=3), eye_gap.render_set("camera", 60, seed=3)
    assert a.images.shape == (60, 1, crops.OUT_SIZE[1], crops.OUT_SIZE[0]) and a.images.dtype == np.float32
    assert np.array_equal(a.images, b.images) and np.array_equal(a.targets, b.targets)
    assert -1.0 <= a.images.min() < a.images.max() <= 1.0
    pitch, yaw = np.degrees(a.targets).T  # the synthetic renders' gaze range
    assert np.abs(pitch).max() <= eyes_synthetic.GAZE_PITCH_DEG and np.abs(yaw).max() <= eyes_synthetic.GAZE_YAW_DEG
    assert np.abs(yaw).max() > 20  # uniform over the range, not the real-like eyes' narrower spread


def test_camera_eyes_move_the_iris_further_per_degree_than_human_eyes():
    camera, human = eye_gap.render_set("camera", 300, seed=0), eye_gap.render_set("human_eye", 300, seed=0)
    ratio = iris_x_per_radian(camera) / iris_x_per_radian(human)
    expected = eyes_synthetic.RADIUS_FRAC * eye_gap.UNITY_WIDTH_FRAC / (geo.HUMAN_RADIUS_FRAC * np.mean(eyes_real.WIDTH_FRAC))
    assert iris_x_per_radian(human) < 0
    assert 0.8 * expected < ratio < 1.2 * expected, (ratio, expected)


def test_the_default_person_keeps_the_human_eyeball():
    person = eyes_real.sample_person(np.random.default_rng(0))
    assert person.radius_frac == geo.HUMAN_RADIUS_FRAC
    pitch, yaw = np.zeros(4), np.full(4, 0.3)
    big = dataclasses.replace(person, radius_frac=eyes_synthetic.RADIUS_FRAC)
    session = eyes_real.sample_session(np.random.default_rng(1))
    assert not np.array_equal(eyes_real.render(np.random.default_rng(2), person, session, pitch, yaw),
                              eyes_real.render(np.random.default_rng(2), big, session, pitch, yaw))


def test_sensor_set_is_the_same_crops_through_the_camera():
    clean = eye_gap.render_set("human_eye", 100, seed=1)
    sensed, again = eye_gap.sensed_set(clean, seed=0), eye_gap.sensed_set(clean, seed=0)
    assert np.array_equal(sensed.images, again.images)
    assert sensed.images.shape == clean.images.shape and np.array_equal(sensed.targets, clean.targets)
    grey = crops.denormalize(sensed.images[:, 0]).reshape(len(sensed.images), -1).astype(float)
    assert np.all(np.abs(grey.mean(1) - 127.5) < 12) and np.all(grey.std(1) > 60)  # equalized, each image
    moved = np.abs(sensed.images - clean.images).mean()
    assert moved > 0.05  # light, defocus, noise and JPEG changed the pixels
