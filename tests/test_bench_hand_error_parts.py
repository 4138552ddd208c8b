"""bench/hand_error_parts.py: a whole-hand shift is all centroid error, a finger moved about the
fixed centroid is all articulation error."""
import importlib.util
from pathlib import Path

import numpy as np

spec = importlib.util.spec_from_file_location("hand_error_parts", Path(__file__).parents[1] / "bench" / "hand_error_parts.py")
hep = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hep)


def test_shift_is_centroid_error_and_a_moved_joint_is_articulation():
    rng = np.random.default_rng(0)
    true = rng.uniform(-0.5, 0.5, (5, 14, 3))
    half_cube = np.full(5, 150.0)
    shifted = hep.error_parts(true + np.array([0.1, 0.0, 0.0]), true, half_cube)
    assert np.isclose(shifted["centroid_mm"], 15.0) and np.isclose(shifted["joint_mm"], 15.0)
    assert shifted["articulation_mm"] < 1e-9
    moved = true.copy()
    moved[:, 0, 1] += 0.14
    moved[:, 1, 1] -= 0.14  # two joints in opposite directions: the centroid stays
    parts = hep.error_parts(moved, true, half_cube)
    assert parts["centroid_mm"] < 1e-9
    assert np.isclose(parts["articulation_mm"], 2 * 0.14 * 150 / 14) and np.isclose(parts["joint_mm"], parts["articulation_mm"])


def test_a_crop_centred_on_something_else_counts_as_a_missed_hand():
    true = np.zeros((3, 14, 3))
    true[1, :, 0] = 1.2   # the whole hand 1.2 half-cubes to the side of the crop centre
    true[2, :7, 0] = 1.5  # half the joints out, the centroid still inside
    assert hep.missed_hands(true).tolist() == [False, True, False]
