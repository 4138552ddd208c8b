"""Real splits respect people and sequences; h5 files split per image, each image with its own label row."""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import byo_fixtures as fx
from pipeline.formats import kaggle_h5
from pipeline.ingest.eyes import FLAT_FOLDER_WARNING, ingest_eyes
from pipeline.params import Ingest, Params
from pipeline.shards import Reject, read_samples

REAL = ("real_train", "real_holdout", "real_val", "real_test")
# real_holdout is other frames of real_train's own groups (pipeline/ingest/splits.py): one pool
POOL = {"real_train": "train pool", "real_holdout": "train pool", "real_val": "real_val", "real_test": "real_test"}


def params() -> Params:
    return replace(Params(), ingest=Ingest(shard_size=8, workers=1, max_reject_fraction=0.05))


def split_of_each(out: Path) -> dict[str, str]:
    """{source: split} over the real splits (real_train keeps its labels apart, not its sources)."""
    return {s.meta["source"]: split for split in REAL
            for s in read_samples(out / "shards" / "eyes" / split, by_node=False)}


def test_h5_entries_pair_with_their_own_look_vec_row_in_natural_order(tmp_path):
    gaze, _ = fx.write_kaggle_pair(tmp_path, n=14)
    recs = kaggle_h5.read_slice(kaggle_h5.list_slices(gaze)[0], str(tmp_path))
    assert [r.meta["source"].split("/")[-1] for r in recs] == [f"img{i}" for i in range(1, 15)]
    for r in recs:
        i = int(r.meta["source"].rsplit("img", 1)[1]) - 1
        dark_column = int(np.argmin(r.image.mean(0)))  # the fixture marks image i at x = 5 + 3 * (i % 15)
        assert dark_column == 5 + 3 * (i % 15)
        assert np.degrees(r.meta["labels"]["gaze"]["yaw"]) == pytest.approx(-20 + 3 * (i % 15), abs=1e-6)


def test_a_real_h5_is_split_per_image_not_per_file(tmp_path):
    gaze, real = fx.write_kaggle_pair(tmp_path / "in", n=14, n_real=16)
    counts = ingest_eyes(params(), gaze, real, tmp_path / "out")["counts"]
    assert counts["real_train"]["written"] > 0 and counts["real_test"]["written"] > 0
    assert sum(counts[split]["in"] for split in REAL) == 16
    splits = split_of_each(tmp_path / "out")
    assert len(splits) == 16 and all("real_gaze.h5#image/img" in s for s in splits)


def test_a_folder_s_first_sub_folder_is_never_cut(tmp_path):
    people = [f"person{k:02d}" for k in range(12)]
    crops = fx.write_crops(tmp_path / "in" / "crops", groups=people, per_group=2)
    (crops / "person00" / "day2").mkdir()  # deeper folders belong to their first sub-folder's group
    (crops / "person00" / "day2" / "x.png").write_bytes((crops / "person00" / "frame000.png").read_bytes())
    gaze, _ = fx.write_kaggle_pair(tmp_path / "in", n=4)
    ingest_eyes(params(), gaze, crops, tmp_path / "out")
    by_group = defaultdict(set)
    for source, split in split_of_each(tmp_path / "out").items():
        by_group[source.split("/")[0]].add(POOL[split])
    assert sorted(by_group) == people and all(len(s) == 1 for s in by_group.values())
    assert {"train pool", "real_test"} <= {next(iter(s)) for s in by_group.values()}  # 12 groups at 0.3
    info = json.loads((tmp_path / "out" / "shards" / "eyes" / "real_test" / "dataset.json").read_text())["info"]
    assert info["warnings"] == []


def test_a_flat_folder_splits_by_image_and_warns(tmp_path):
    crops = fx.write_crops(tmp_path / "in" / "grouped", groups=("a", "b", "c"), per_group=5)
    flat = tmp_path / "in" / "flat"
    flat.mkdir()
    for p in sorted(crops.rglob("*.png")):
        (flat / f"{p.parent.name}-{p.name}").write_bytes(p.read_bytes())
    gaze, _ = fx.write_kaggle_pair(tmp_path / "in", n=4)
    ingest_eyes(params(), gaze, flat, tmp_path / "out")
    assert {"real_train", "real_test"} <= set(split_of_each(tmp_path / "out").values())
    for split in ("synthetic", "real_train", "real_test"):
        info = json.loads((tmp_path / "out" / "shards" / "eyes" / split / "dataset.json").read_text())["info"]
        assert info["warnings"] == [FLAT_FOLDER_WARNING]


def eye_params(**eye_ingest) -> Params:
    p = params()
    return replace(p, eyes=replace(p.eyes, ingest=replace(p.eyes.ingest, **eye_ingest)))


def test_unlabelled_crops_with_test_fraction_0_all_go_to_the_train_pool(tmp_path):
    # an unlabelled real_test tests nothing: test_fraction 0 (and val_fraction 0) keeps every crop for the refiner
    crops = fx.write_crops(tmp_path / "in" / "crops", groups=("a", "b", "c", "d"), per_group=3)
    gaze, _ = fx.write_kaggle_pair(tmp_path / "in", n=4)
    counts = ingest_eyes(eye_params(test_fraction=0.0, val_fraction=0.0), gaze, crops, tmp_path / "out")["counts"]
    assert counts["real_test"]["in"] == counts["real_val"]["in"] == 0
    assert counts["real_train"]["written"] + counts["real_holdout"]["written"] == 12


def test_unlabelled_crops_whose_groups_all_miss_real_test_still_ingest(tmp_path):
    # few groups can all hash past test_fraction + val_fraction; ingest used to fail with
    # "real_test: no input records at all (empty or missing input folder?)"
    from pipeline.ingest.splits import unit_fraction
    p = eye_params()
    cut = p.eyes.ingest.test_fraction + p.eyes.ingest.val_fraction
    groups = [g for g in (f"person{k:02d}" for k in range(40)) if unit_fraction(g) >= cut][:3]
    crops = fx.write_crops(tmp_path / "in" / "crops", groups=groups, per_group=2)
    gaze, _ = fx.write_kaggle_pair(tmp_path / "in", n=4)
    counts = ingest_eyes(p, gaze, crops, tmp_path / "out")["counts"]
    assert counts["real_test"]["in"] == 0 and counts["real_train"]["written"] + counts["real_holdout"]["written"] == 6


def test_a_labelled_mpiigaze_real_test_must_still_hold_records(tmp_path):
    from pipeline.ingest.eyes import may_be_empty
    assert may_be_empty("mpiigaze") == () and may_be_empty("folder") == may_be_empty("h5") == ("real_test",)
