"""bench/hand_gap.py's sensor parts: all of them together are the pipeline's Kinect model, and
each part does only its own thing."""
import numpy as np

from pipeline.simulate.hands_kinect import kinect
from support.bench import bench_module

hand_gap = bench_module("hand_gap")
HOLES, kinect_part = hand_gap.HOLES, hand_gap.kinect_part


def scene() -> np.ndarray:
    """A coarse (240, 320) depth map: a wall at 1.2 m, a near block at 0.7 m, a strip of no depth."""
    z = np.full((240, 320), 1200, np.float32)
    z[80:160, 100:200] = 700
    z[:, :10] = 0
    return z


def test_every_part_together_is_the_pipelines_kinect_model():
    parts = tuple(p for p in HOLES if p != "all_edges") + ("noise",)
    assert np.array_equal(kinect_part(*parts)(scene(), np.random.default_rng(1)), kinect(scene(), np.random.default_rng(1)))


def test_no_part_is_the_clean_depth_and_each_hole_part_only_removes_depth():
    clean = kinect_part()(scene(), np.random.default_rng(1))
    assert np.array_equal(clean, scene().astype(np.uint16))
    for part in HOLES:
        sensed = kinect_part(part)(scene(), np.random.default_rng(1))
        holes = (sensed == 0) & (clean > 0)
        assert holes.any(), part
        assert np.array_equal(sensed[~holes], clean[~holes]), part  # what is left is untouched
    edges = kinect_part("edges")(scene(), np.random.default_rng(1)) == 0
    all_edges = kinect_part("all_edges")(scene(), np.random.default_rng(1)) == 0
    assert all_edges.sum() > edges.sum() > 0 and not (edges & ~all_edges).any()  # half the edge pixels, then all
