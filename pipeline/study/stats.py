"""What the answers say: accuracy (overall, per participant), the confusion table and a
two-sided exact binomial test against chance (50 %), beside the paper's 517/1000.

The paper reports p = 0.148 for 517/1000; that is the one-sided p-value
(binomtest(517, 1000, alternative="greater")); the two-sided test used here gives 0.297.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

from pipeline.study import LABELS

PAPER = {"correct": 517, "n": 1000, "p_value_reported": 0.148}


@dataclass(frozen=True)
class Score:
    n: int
    correct: int
    accuracy: float     # nan with no answers
    p_value: float      # two-sided exact binomial test against 0.5; nan with no answers
    ci_low: float       # 95 % Clopper-Pearson interval of the accuracy
    ci_high: float


@dataclass(frozen=True)
class Summary:
    overall: Score
    per_participant: dict[str, Score]
    confusion: dict[str, dict[str, int]]  # truth -> answer -> count
    paper: Score


def score(correct: int, n: int) -> Score:
    if n == 0:
        return Score(0, 0, float("nan"), float("nan"), float("nan"), float("nan"))
    test = binomtest(correct, n, 0.5, alternative="two-sided")
    ci = test.proportion_ci(confidence_level=0.95)
    return Score(n, correct, correct / n, float(test.pvalue), float(ci.low), float(ci.high))


def summarize(answers: list[dict]) -> Summary:
    """`answers`: rows with participant, truth and answer (store.read_answers)."""
    participant = np.array([a["participant"] for a in answers], dtype=object)
    truth = np.array([a["truth"] for a in answers], dtype=object)
    answer = np.array([a["answer"] for a in answers], dtype=object)
    hit = truth == answer
    per_participant = {p: score(int(hit[participant == p].sum()), int((participant == p).sum()))
                       for p in sorted(set(participant))}
    confusion = {t: {a: int(((truth == t) & (answer == a)).sum()) for a in LABELS} for t in LABELS}
    return Summary(score(int(hit.sum()), len(answers)), per_participant, confusion,
                   score(PAPER["correct"], PAPER["n"]))
