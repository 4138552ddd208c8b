"""Which image a trial shows: real or refined with equal odds, then a key of that class the
participant has not seen yet. A pure function of (seed, participant, trial number), so a
restarted server draws the same sequence and no RNG state has to be stored."""
from __future__ import annotations

import hashlib
from typing import Mapping, Sequence

import numpy as np

from pipeline.study import LABELS


def participant_seed(participant: str) -> int:
    return int.from_bytes(hashlib.sha256(participant.encode()).digest()[:8], "little")


def draw(keys: Mapping[str, Sequence[str]], shown: set[tuple[str, str]], seed: int,
         participant: str, seq: int) -> tuple[str, str]:
    """(label, key) of trial number `seq` for `participant`; repeats only once a class is used up."""
    rng = np.random.default_rng([seed, participant_seed(participant), seq])
    label = LABELS[int(rng.integers(2))]
    fresh = [k for k in keys[label] if (label, k) not in shown] or list(keys[label])
    return label, fresh[int(rng.integers(len(fresh)))]
