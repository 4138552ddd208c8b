"""bench/eyes_real_sample.py: how many people, days and frames the bench's real-like set draws."""
import importlib.util
from pathlib import Path

import cv2
import pytest

from pipeline.simulate import eyes_real

ROOT = Path(__file__).parents[1]
spec = importlib.util.spec_from_file_location("eyes_real_sample", ROOT / "bench" / "eyes_real_sample.py")
ers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ers)


def _count_sessions(monkeypatch):
    calls = []
    real = eyes_real.sample_session
    monkeypatch.setattr(eyes_real, "sample_session", lambda rng: calls.append(1) or real(rng))
    return calls


def test_each_frame_gets_its_own_day_by_default(monkeypatch):
    calls = _count_sessions(monkeypatch)
    crops = list(ers.sample_crops(people=3, frames=4, frames_per_day=1, seed=7))
    assert len(crops) == 12 and len(calls) == 12
    assert crops[0].shape == (35, 55)


def test_frames_per_day_groups_frames_into_sessions(monkeypatch):
    calls = _count_sessions(monkeypatch)
    crops = list(ers.sample_crops(people=2, frames=5, frames_per_day=2, seed=7))
    assert len(crops) == 10 and len(calls) == 2 * 3   # days of 2, 2 and 1 frames


def test_cli_writes_pngs_and_rejects_zero_counts(tmp_path):
    assert ers.main([str(tmp_path / "out"), "--people", "2", "--frames", "3", "--seed", "1"]) == 0
    files = sorted((tmp_path / "out").glob("*.png"))
    assert len(files) == 6 and cv2.imread(str(files[0]), cv2.IMREAD_GRAYSCALE).shape == (35, 55)
    with pytest.raises(SystemExit) as exit_:
        ers.main([str(tmp_path / "bad"), "--frames-per-day", "0"])
    assert exit_.value.code == 2
