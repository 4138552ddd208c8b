"""Intervals of the mean over several estimator seeds: they resample the seeds as well as the samples,
and the report reads them from the evaluate stage's per-seed columns."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.estimate.bootstrap import mean_interval, ratio_interval, seeds_mean_interval, seeds_ratio_interval
from pipeline.estimate.metrics import seed_column
from pipeline.report.build import _change, seeds_ratio


def test_identical_seeds_give_the_samples_only_interval():
    x = np.random.default_rng(0).gamma(2.0, 3.0, size=400)
    assert seeds_mean_interval(np.stack([x, x, x])) == pytest.approx(mean_interval(x))
    y = x * np.random.default_rng(1).uniform(0.7, 1.0, size=400)
    assert seeds_ratio_interval(np.stack([y] * 3), np.stack([x] * 3)) == pytest.approx(ratio_interval(y, x))
    assert seeds_ratio_interval(y[None], x[None]) == pytest.approx(ratio_interval(y, x))


def test_a_seed_spread_widens_the_interval_and_it_still_holds_the_mean():
    rng = np.random.default_rng(2)
    x = rng.gamma(2.0, 3.0, size=400)
    spread = np.stack([x - 1.0, x, x + 1.0])  # seeds 1 unit apart: the same mean, more doubt
    lo, hi = seeds_mean_interval(spread)
    flo, fhi = mean_interval(spread.mean(axis=0))
    assert lo < flo and hi > fhi and lo < spread.mean() < hi
    syn = np.stack([x, x, x]) + 1.0
    lo, hi = seeds_ratio_interval(spread, syn)
    assert lo < spread.mean() / syn.mean() < hi
    with pytest.raises(ValueError, match="differ in number"):
        seeds_ratio_interval(spread, syn[:, :10])


def _rows(per_seed: np.ndarray, split: str = "real_test") -> list[dict]:
    return [{"split": split, "key": f"k{i:04d}", **{seed_column("error_mm", s): float(v[i]) for s, v in enumerate(per_seed)}}
            for i in range(per_seed.shape[1])]


def test_the_report_gives_the_seeds_ratio_only_when_both_sets_have_several_seeds():
    rng = np.random.default_rng(3)
    syn = rng.gamma(4.0, 10.0, size=(3, 300))
    ref = 0.8 * syn + rng.normal(0, 2, size=syn.shape)
    inputs = {"samples": {("hands", "synthetic"): _rows(syn), ("hands", "refined"): _rows(ref)}}
    n, ratio, (lo, hi) = seeds_ratio(inputs, "hands", "mean_joint_error_mm", "test")
    assert n == 3 and ratio == pytest.approx(ref.mean() / syn.mean()) and lo < ratio < hi
    assert f"3 seeds: {ratio:.2f}x" in _change(inputs, "hands", "mean_joint_error_mm", "test", True, [None, None])
    one = {"samples": {("hands", "synthetic"): _rows(syn[:1]), ("hands", "refined"): _rows(ref)}}
    assert seeds_ratio(one, "hands", "mean_joint_error_mm", "test") is None
    assert "seeds" not in _change(one, "hands", "mean_joint_error_mm", "test", True, [None, None])
    assert seeds_ratio(inputs, "hands", "mean_joint_error_mm", "val") is None  # no real_val rows
