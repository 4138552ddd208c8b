"""Paired bootstrap intervals: the uncertainty of a mean error from which test samples were drawn.

Every interval resamples the split's samples (frames for hands: a frame's joints stay together)
with one fixed seed, so two estimators measured on the same split get the SAME resamples: the
interval of their ratio is paired (each resample's refined mean over its synthetic mean), which
is much tighter than two independent intervals would suggest. Percentile intervals, 95 %.
With several estimator seeds (train_estimator.seeds > 1) the seeds_* intervals resample the seeds
as well: the interval of the seeds' mean then carries their spread, not only the split's.
"""
from __future__ import annotations

import numpy as np

ROUNDS = 2000
SEED = 20170601  # fixed: the same resamples in evaluate and in the report's ratio
LEVEL = 0.95


def resamples(n: int, rounds: int = ROUNDS, seed: int = SEED) -> np.ndarray:
    """(rounds, n) sample indices drawn with replacement; the same for every split of size n."""
    return np.random.default_rng(seed).integers(0, n, size=(rounds, n))


def _percentiles(values: np.ndarray, level: float = LEVEL) -> list[float]:
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return [float(lo), float(hi)]


def mean_interval(per_sample: np.ndarray, rounds: int = ROUNDS, seed: int = SEED) -> list[float]:
    """[lo, hi] 95 % interval of the mean of `per_sample` (one value per sample)."""
    x = np.asarray(per_sample, np.float64)
    if len(x) == 0:
        return [float("nan"), float("nan")]
    return _percentiles(x[resamples(len(x), rounds, seed)].mean(axis=1))


def ratio_interval(numerator: np.ndarray, denominator: np.ndarray, rounds: int = ROUNDS,
                   seed: int = SEED) -> list[float]:
    """[lo, hi] 95 % interval of mean(numerator) / mean(denominator), both per sample of ONE split in
    the same order, resampled together (paired)."""
    a, b = np.asarray(numerator, np.float64), np.asarray(denominator, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in number: {a.shape} vs {b.shape}")
    idx = resamples(len(a), rounds, seed)
    return _percentiles(a[idx].mean(axis=1) / b[idx].mean(axis=1))


def difference_interval(a: np.ndarray, b: np.ndarray, rounds: int = ROUNDS, seed: int = SEED) -> list[float]:
    """[lo, hi] 95 % interval of mean(a) - mean(b), paired as ratio_interval."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in number: {a.shape} vs {b.shape}")
    idx = resamples(len(a), rounds, seed)
    return _percentiles(a[idx].mean(axis=1) - b[idx].mean(axis=1))


def _seed_means(per_seed: np.ndarray, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(rounds,) the mean over S seeds drawn with replacement of each seed's mean over the resampled
    samples `idx` (rounds, n); per_seed is (S, n)."""
    s = len(per_seed)
    weights = np.stack([np.bincount(row, minlength=s) for row in rng.integers(0, s, size=(len(idx), s))]) / s
    sample_means = per_seed[:, idx].mean(axis=2)  # (S, rounds)
    return (weights * sample_means.T).sum(axis=1)


def seeds_mean_interval(per_seed: np.ndarray, rounds: int = ROUNDS, seed: int = SEED) -> list[float]:
    """[lo, hi] 95 % interval of the seed-mean of the mean of (S, n) per-seed, per-sample values.
    Each round resamples the samples and the S seeds (with replacement): the interval carries the
    estimator's spread over seeds as well as the split's. With S = 3 the seed part is coarse
    (10 distinct multisets), so it is if anything narrow."""
    x = np.asarray(per_seed, np.float64)
    return _percentiles(_seed_means(x, resamples(x.shape[1], rounds, seed), np.random.default_rng([seed, 1])))


def seeds_ratio_interval(numerator: np.ndarray, denominator: np.ndarray, rounds: int = ROUNDS,
                         seed: int = SEED) -> list[float]:
    """[lo, hi] 95 % interval of the ratio of seed-means, (S, n) per seed and sample of ONE split each.
    The samples are resampled together (paired, as ratio_interval); each side's seeds are resampled on
    their own, since seed k of two training sets shares nothing but its number."""
    a, b = np.asarray(numerator, np.float64), np.asarray(denominator, np.float64)
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"paired samples differ in number: {a.shape} vs {b.shape}")
    idx = resamples(a.shape[1], rounds, seed)
    rng = np.random.default_rng([seed, 1])
    return _percentiles(_seed_means(a, idx, rng) / _seed_means(b, idx, rng))
