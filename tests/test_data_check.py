"""`simgan data check <domain>`: a dry run over the configured inputs, for every format's fixture."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import byo_fixtures as fx
from pipeline.cli import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[str, Path]:
    return fx.write_all(tmp_path_factory.mktemp("byo-datasets"))


def check(domain: str, synthetic: Path | str, real: Path | str, *extra: str):
    sets = ["ingest.workers=1", f"{domain}.simulate.source=folders", f"{domain}.simulate.synthetic_dir='{synthetic}'",
            f"{domain}.simulate.real_dir='{real}'", "eyes.ingest.test_participants=[p00]",
            "eyes.ingest.val_participants=[p03]", *extra]
    args = ["data", "check", domain, "--params", str(ROOT / "params.yaml")] + [a for s in sets for a in ("-S", s)]
    return CliRunner().invoke(app, args, catch_exceptions=False)


def block(output: str, split: str) -> str:
    """The lines of one split's section."""
    return re.search(rf"^{split}  .*?(?=^\S|\Z)", output, re.S | re.M).group(0)


def test_unityeyes_and_mpiigaze(datasets):
    r = check("eyes", datasets["unityeyes"], datasets["mpiigaze"])
    assert r.exit_code == 0, r.output
    syn, train, test = (block(r.output, s) for s in ("synthetic", "real_train", "real_test"))
    assert "[unityeyes]" in syn and "files 24, records found 12, would write 12, rejected 0" in syn
    assert "sample keys: ue-1, ue-2, ue-3" in syn and "gaze pitch (deg) -12.0 .. 13.0" in syn
    holdout, val = block(r.output, "real_holdout"), block(r.output, "real_val")
    found = [int(re.search(r"records found (\d+), would write \1,", b).group(1)) for b in (train, holdout)]
    assert "[mpiigaze]" in train and sum(found) == 24 and min(found) > 0 and "mp-p01-day01-l0000" in train
    assert "records found 12, would write 12" in val and "mp-p03-day01-l0000" in val  # val_participants [p03]
    assert "records found 12, would write 12" in test and "labels on 12/12: gaze pitch" in test
    assert r.output.rstrip().endswith("OK: ingest would pass the max_reject_fraction check")


def test_kaggle_h5_pair(datasets):
    r = check("eyes", datasets["gaze_h5"], datasets["real_gaze_h5"])
    assert r.exit_code == 0, r.output
    assert "[h5]" in block(r.output, "synthetic") and "gaze yaw (deg) -20.0 .. 19.0" in block(r.output, "synthetic")
    found = [int(re.search(r"records found (\d+)", block(r.output, s)).group(1))
             for s in ("real_train", "real_holdout", "real_val", "real_test")]
    assert sum(found) == 16 and found[0] > 0 and found[3] > 0  # split per image
    assert "no labels" in block(r.output, "real_test")


def test_a_folder_of_crops(datasets):
    r = check("eyes", datasets["gaze_h5"], datasets["crops"])
    assert r.exit_code == 0, r.output
    assert "[folder]" in block(r.output, "real_train") and "fo-alice_frame000" in r.output


def test_nyu(datasets):
    # 10 labelled train frames are one sequence of the default 100: no room is left for real_val
    r = check("hands", datasets["nyu_synth"], datasets["nyu"], "hands.ingest.val_sequences=[]")
    assert r.exit_code == 0, r.output
    assert "files 13, records found 12, would write 12" in block(r.output, "synthetic")
    assert "joint depth (mm)" in block(r.output, "real_test") and "depth_1_0000001" in block(r.output, "real_test")


def test_nyu_val_sequences_past_the_end_name_the_key(datasets):
    r = check("hands", datasets["nyu_synth"], datasets["nyu"])
    assert r.exit_code != 0 and "hands.ingest.val_sequences" in r.output and "past the end" in r.output


def test_unlabelled_nyu_without_test_folder_passes_and_says_so(tmp_path, datasets):
    nyu = fx.write_nyu(tmp_path / "nyu", n_train=4, train_labels=False, test=False)
    r = check("hands", datasets["nyu_synth"], nyu)
    assert r.exit_code == 0, r.output
    assert "no labels" in block(r.output, "real_train") and "no records: the dataset has no such split" in r.output


def test_too_many_rejects_exit_non_zero_with_reasons(tmp_path, datasets):
    bad = fx.write_crops(tmp_path / "crops", groups=("a",), per_group=3)
    (bad / "a" / "notes.txt").write_text("not an eye")
    png = (bad / "a" / "frame001.png").read_bytes()
    (bad / "a" / "frame001.png").write_bytes(png[:len(png) // 2])
    r = check("eyes", datasets["gaze_h5"], bad, "eyes.ingest.test_fraction=0.01")
    assert r.exit_code == 1
    assert "reject x1: truncated PNG" in r.output and "reject x1: not an image file (suffix '.txt'" in r.output
    assert re.search(r"FAIL real_(train|holdout): would reject 1/\d records", r.output)
    assert "FAIL real_test" not in r.output  # unlabelled crops: real_test may be empty


def test_unlabelled_crops_with_test_fraction_0_pass_and_say_real_test_is_absent(tmp_path, datasets):
    crops = fx.write_crops(tmp_path / "crops", groups=("a", "b"), per_group=2)
    r = check("eyes", datasets["gaze_h5"], crops, "eyes.ingest.test_fraction=0", "eyes.ingest.val_fraction=0")
    assert r.exit_code == 0, r.output
    assert "no records: the dataset has no such split" in block(r.output, "real_test")


def test_a_bad_path_exits_non_zero_naming_the_key(datasets):
    r = check("eyes", datasets["unityeyes"], "")
    assert r.exit_code == 1 and "eyes.simulate.real_dir: empty" in r.output
