"""The evaluation protocol, as the code states it: real_test is read by the evaluate stage alone,
settings and bench comparisons read real_val, and the refiner never sees val, test or holdout."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from pipeline.ingest.splits import LABELS_APART, LABELLED, SPLITS
from pipeline.params import Params
from pipeline.simgan.run import SPLITS as REFINER_SPLITS

ROOT = Path(__file__).resolve().parents[1]


def stage_deps() -> dict[str, list[str]]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    deps = {}
    for name, st in stages.items():
        body = st.get("do", st)
        deps[name] = [d if isinstance(d, str) else next(iter(d)) for d in body.get("deps", [])]
    return deps


def test_only_evaluate_reads_real_test():
    readers = {name for name, deps in stage_deps().items() if any(d.endswith("/real_test") for d in deps)}
    assert readers == {"evaluate"}


def test_realism_compares_within_the_refiners_population_and_never_against_test():
    deps = stage_deps()["realism"]
    assert any(d.endswith("/real_holdout") for d in deps) and any(d.endswith("/real_val") for d in deps)
    assert not any(d.endswith("/real_test") for d in deps)


def test_refiner_reads_synthetic_and_real_train_only():
    assert set(REFINER_SPLITS) == {"synthetic", "real_train"}
    deps = stage_deps()["train_refiner"]
    assert not any(re.search(r"/real_(val|test|holdout)$", d) for d in deps)


def test_benches_choose_on_real_val_never_on_real_test():
    for name in ("estimator_error.py", "refiner_length.py", "hand_gap.py", "seed_spread.py", "hand_error_parts.py"):
        text = (ROOT / "bench" / name).read_text()
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        assert '"real_test"' not in code and "/real_test" not in code, name
    assert '"real_val"' in (ROOT / "bench" / "seed_spread.py").read_text()


def test_split_roles_are_consistent():
    assert set(LABELS_APART) | set(LABELLED) == set(SPLITS)
    assert not set(LABELS_APART) & set(LABELLED)


def test_the_study_shows_real_val_not_real_test():
    assert Params().study.real_split == "real_val"
    assert yaml.safe_load((ROOT / "params.yaml").read_text())["study"]["real_split"] == "real_val"
