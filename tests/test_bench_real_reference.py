"""bench/real_reference.py: its statistics and C2ST tell sets apart when, and only when, they differ."""
import importlib.util
from pathlib import Path

import cv2
import numpy as np

spec = importlib.util.spec_from_file_location("real_reference", Path(__file__).parents[1] / "bench" / "real_reference.py")
rr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rr)


def _blobs(rng, n, noise):
    x = np.full((n, 35, 55), 170, np.float32)
    for im in x:
        cv2.circle(im, (int(rng.integers(20, 35)), int(rng.integers(14, 21))), 7, 40, -1)
    return np.clip(x + rng.normal(0, noise, x.shape), 0, 255).astype(np.uint8)


def test_texture_c2st_separates_noise_levels_not_draws():
    rng = np.random.default_rng(0)
    a, b, c = _blobs(rng, 40, 2), _blobs(rng, 40, 2), _blobs(rng, 40, 25)
    assert rr.c2st_texture(a, c, 0).mean() > 0.9
    assert rr.c2st_texture(a, b, 0).mean() < 0.75


def test_statistics_locate_the_dark_blob_and_measure_detail():
    rng = np.random.default_rng(1)
    x = _blobs(rng, 20, 2)
    place = rr.eye_placement(x)
    assert 0.3 < place["iris_x"].mean() < 0.7 and 0.35 < place["iris_y"].mean() < 0.6
    assert rr.gradient_energy(_blobs(rng, 20, 25)).mean() > 3 * rr.gradient_energy(x).mean()
    spec = rr.radial_spectrum(x)
    assert np.allclose(spec.sum(1), 1) and spec[:, 0].mean() > spec[:, -1].mean()


def test_cli_writes_table_figure_and_json(tmp_path):
    rng = np.random.default_rng(2)
    for name, noise in (("ref", 2), ("other", 25)):
        (tmp_path / name).mkdir()
        for i, im in enumerate(_blobs(rng, 12, noise)):
            cv2.imwrite(str(tmp_path / name / f"{i}.png"), im)
    rc = rr.main(["--reference", str(tmp_path / "ref"), "--set", f"other={tmp_path / 'other'}", "--repeats", "1",
                  "--figure", str(tmp_path / "f.png"), "--json", str(tmp_path / "r.json")])
    assert rc == 0 and (tmp_path / "f.png").stat().st_size > 1000
    import json
    out = json.loads((tmp_path / "r.json").read_text())
    assert out["c2st"]["other"]["texture"]["acc"] > 0.8


def test_framing_reads_render_labels_and_hand_read_landmarks(tmp_path):
    """Eye and iris width over the frame: from a render's UnityEyes JSON, else from the landmarks CSV."""
    from pipeline.simulate import eyes_synthetic
    renders, refs = tmp_path / "renders", tmp_path / "refs"
    renders.mkdir(), refs.mkdir()
    eyes_synthetic.write_renders(renders, np.random.default_rng(0), 1, 3, 75)
    for name in ("30.jpg", "33.jpg", "99.jpg"):  # 99: no landmarks, skipped
        cv2.imwrite(str(refs / name), np.full((480, 640), 128, np.uint8))
    marks = rr.read_landmarks(Path(__file__).parents[1] / "bench" / "data" / "unityeyes2-reference-landmarks.csv")
    assert len(marks) == 10 and marks["30.jpg"] == (220, 140) and np.isnan(marks["33.jpg"][1])
    ref = rr.frame_framing(refs, marks)
    assert ref.shape == (2, 2) and np.allclose(ref[0], [220 / 640, 140 / 640])
    ours = rr.frame_framing(renders, None)
    assert ours.shape == (3, 2) and (0.28 < ours[:, 0]).all() and (ours[:, 0] < 0.42).all()
    assert "| reference | 2 |" in rr.framing_table({"reference": ref, "renders": ours})
