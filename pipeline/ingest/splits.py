"""The real splits of every domain, and the one rule that sends a real frame to its split.

    real_test     labelled; people (eyes) / recordings (hands) of their own; read by `evaluate` alone
    real_val      labelled; other people / sequences, neither in real_train nor in real_test: every
                  choice of settings (and every bench/ comparison) reads this split only
    real_train    the refiner's real images (labels kept apart for the oracle estimator)
    real_holdout  other frames of real_train's own people / sequences, seen by neither the refiner
                  nor the oracle: realism compares against them (same population, other frames)

Which people / sequences go to test or val is a param (a group rule); the train/holdout cut is a
per-frame hash, so it is deterministic, needs no state, and keeps both eyes of one frame together.
"""
from __future__ import annotations

import hashlib
import re

SPLITS = ("synthetic", "synthetic_context", "real_train", "real_holdout", "real_val", "real_test")
LABELS_APART = ("real_train", "real_holdout")  # splits whose labels only the oracle estimator may read
# empty when their params ask for none (no "no input" error); synthetic_context: hands only
OPTIONAL = ("real_holdout", "real_val", "synthetic_context")
LABELLED = ("synthetic", "synthetic_context", "real_val", "real_test")  # splits whose shards carry their labels

_SIDE = re.compile(r"#(left|right)/")


def unit_fraction(text: str, salt: str = "") -> float:
    """A stable number in [0, 1) for `text` (sha1, so the same on every machine and Python)."""
    return int(hashlib.sha1((salt + text).encode()).hexdigest()[:8], 16) / 2 ** 32


def train_or_holdout(frame_id: str, holdout_fraction: float) -> str:
    """real_holdout for a stable `holdout_fraction` share of a population's frames, else real_train.
    The eye of a frame (`#left/`, `#right/`) is dropped first: both eyes of a frame share a split."""
    frame = _SIDE.sub("#", frame_id)
    return "real_holdout" if unit_fraction(frame, "holdout:") < holdout_fraction else "real_train"
