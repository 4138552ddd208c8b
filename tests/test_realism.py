"""Realism metrics: KID and the classifier two-sample test on image sets whose answer is known."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from support.samples import write_split
from pipeline.errors import PipelineError
from pipeline.params import Realism
from pipeline.realism import c2st, kid, load_sets, measure_realism

CFG = Realism(epochs=3, batch_size=32, width=4, lr=5e-3, kid_subsets=10, kid_subset_size=100)
CPU = torch.device("cpu")


class PixelFeatures(torch.nn.Module):
    """A stand-in feature net: the pixels themselves."""

    def embed(self, x):
        return x.flatten(1)


def images(rng, n, offset=0.0):
    return (rng.normal(0, 0.3, (n, 1, 16, 16)) + offset).astype(np.float32)


def test_kid_zero_for_same_distribution_positive_for_shifted():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(0, 1, (300, 8)), rng.normal(0, 1, (300, 8)), rng.normal(0.7, 1, (300, 8))
    same, _ = kid(a, b, 10, 200, seed=0)
    diff, _ = kid(a, c, 10, 200, seed=0)
    assert abs(same) < 0.02 and diff > 0.2
    assert kid(a, c, 10, 200, seed=0) == kid(a, c, 10, 200, seed=0)


def test_kid_subsets_differ_so_its_std_over_subsets_is_not_zero():
    """Subsets of at most half of each set: with 40 features a side and subset_size 200, the std is real."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, (40, 8)), rng.normal(0, 1, (40, 8))
    mean, std = kid(a, b, 20, 200, seed=0)
    assert std > 1e-3 and abs(mean) < 3 * std + 0.05


def test_c2st_separates_different_sets_and_not_identical_ones():
    rng = np.random.default_rng(0)
    real = images(rng, 200, 0.5)
    far = c2st(real, images(rng, 200, 0.0), 60, CFG, 0, CPU)
    same = c2st(real, images(rng, 200, 0.5), 60, CFG, 0, CPU)
    assert far["accuracy"] > 0.9 and far["p_value"] < 1e-6 and far["n_test"] == 120
    assert far["ci95"][0] > 0.8
    # two draws of one distribution: 0.5 lies inside the accuracy's 95 % interval
    assert same["ci95"][0] <= 0.5 <= same["ci95"][1] and same["p_value"] > 1e-3
    assert far["log_loss"] < 0.3 < 0.6 < same["log_loss"]  # chance is ln 2 = 0.69


def test_measure_realism_ranks_a_closer_refined_set_as_more_real():
    rng = np.random.default_rng(1)
    real, synthetic = images(rng, 200, 0.5), images(rng, 200, 0.0)
    refined = synthetic + 0.45  # "refinement" that nearly closes the gap
    out, feats = measure_realism(real, synthetic, refined, PixelFeatures(), CFG, 0, CPU,
                                 real_other=images(rng, 300, 0.5), cross_population=images(rng, 200, 0.6))
    assert out["c2st"]["refined"]["accuracy"] < out["c2st"]["synthetic"]["accuracy"]
    assert out["c2st"]["real"]["accuracy"] < 0.65 and out["c2st"]["real"]["n_test"] == 120  # the floor, at n = 200
    assert out["kid"]["refined"]["mean"] < out["kid"]["synthetic"]["mean"]
    assert out["kid"]["real"]["std"] > 0 and abs(out["kid"]["real"]["mean"]) < out["kid"]["refined"]["mean"]
    cross = out["cross_population"]["c2st"]
    assert set(cross) == {"synthetic", "refined", "real"} and cross["real"]["accuracy"] > out["c2st"]["real"]["accuracy"]
    assert set(feats) == {"real", "synthetic", "refined"} and len(feats["real"]) == 60


def test_load_sets_pairs_refined_with_synthetic_by_key(tmp_path):
    write_split(tmp_path, "eyes", "real_holdout", 30, 1, prefix="h")
    write_split(tmp_path, "eyes", "real_train", 30, 2, prefix="r")
    write_split(tmp_path, "eyes", "synthetic", 30, 0)
    write_split(tmp_path, "eyes", "refined", 30, 0, style=0.5)
    sets = load_sets("eyes", tmp_path / "shards", max_samples=12, seed=3)
    assert sets["synthetic"].shape == sets["refined"].shape == sets["real_other"].shape == (12, 1, 35, 55)
    assert sets["cross_population"] is None  # no real_val here: the cross-population row is left out
    write_split(tmp_path, "eyes", "real_val", 30, 4, prefix="v")
    assert load_sets("eyes", tmp_path / "shards", max_samples=12, seed=3)["cross_population"].shape == (12, 1, 35, 55)
    # the fixture's refined sample i is synthetic sample i restyled: the iris disc stays put
    assert np.abs(iris_centres(sets["synthetic"]) - iris_centres(sets["refined"])).max() < 0.5
    assert np.abs(iris_centres(sets["synthetic"]) - iris_centres(sets["refined"][::-1])).max() > 2
    write_split(tmp_path, "eyes", "refined", 10, 0, style=0.5)  # refine ran on fewer samples
    with pytest.raises(PipelineError, match="no refined counterpart"):
        load_sets("eyes", tmp_path / "shards", max_samples=30, seed=3)


def iris_centres(x: np.ndarray) -> np.ndarray:
    """(N, 2) centroid of each eye image's dark disc."""
    dark = x[:, 0] < x.mean(axis=(1, 2, 3))[:, None, None] - 0.4
    yy, xx = np.mgrid[0:x.shape[2], 0:x.shape[3]]
    n = dark.sum(axis=(1, 2))
    return np.stack([(dark * xx).sum(axis=(1, 2)) / n, (dark * yy).sum(axis=(1, 2)) / n], axis=1)
