"""Estimator pieces: targets, labels join, augmentation, metrics, budget and determinism."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from support.samples import write_domain, write_split
from pipeline.errors import PipelineError
from pipeline.estimate.augment import augment
from pipeline.estimate.data import decode_hand_targets, encode_targets, load_labelled, training_paths
from pipeline.estimate.metrics import angular_error_deg, gaze_metrics, hand_metrics, percent_within
from pipeline.estimate.model import estimator_config
from pipeline.estimate.train import fit, index_stream
from pipeline.params import TrainEstimator

TINY = TrainEstimator(epochs=3, batch_size=16, max_samples=48, width=4, lr=3e-3)


@pytest.fixture(scope="module")
def eyes_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_domain(root, "eyes", n=64)
    return root


def test_real_train_labels_come_from_the_parquet_by_key(eyes_root):
    split_dir, labels = training_paths(eyes_root, "eyes", "real_train")
    with pytest.raises(PipelineError, match="carry no labels"):
        load_labelled("eyes", split_dir)  # the shards themselves are unlabelled
    data = load_labelled("eyes", split_dir, labels_path=labels)
    labelled = load_labelled("eyes", write_split(eyes_root / "check", "eyes", "real_train", 64, 1, style=1.0, prefix="r"))
    assert data.keys == labelled.keys
    np.testing.assert_array_equal(data.targets, labelled.targets)


def test_max_samples_is_a_seeded_subset(eyes_root):
    split_dir = eyes_root / "shards/eyes/synthetic"
    a = load_labelled("eyes", split_dir, max_samples=20, seed=1)
    b = load_labelled("eyes", split_dir, max_samples=20, seed=1)
    c = load_labelled("eyes", split_dir, max_samples=20, seed=2)
    assert a.keys == b.keys and len(a.keys) == 20 and a.keys != c.keys


def test_hand_targets_round_trip():
    metas = [{"crop": {"size": 32, "center_uvd": [300, 200, 650.0], "cube_mm": 300.0},
              "labels": {"joints_uvd": (np.arange(42).reshape(14, 3) * [0.7, 0.5, 3] + [1, 2, 600]).tolist()}}]
    t = encode_targets("hands", metas, "test")
    assert t.shape == (1, 14, 3) and np.abs(t).max() <= 1.0
    np.testing.assert_allclose(decode_hand_targets(t, metas)[0], metas[0]["labels"]["joints_uvd"], atol=1e-4)


def test_hand_shift_moves_joints_with_the_image():
    g = torch.Generator().manual_seed(0)
    x = torch.ones(8, 1, 32, 32)
    x[:, :, 10, 20] = -1.0  # one near pixel at (u, v) = (20, 10) in crop px
    y = torch.tensor([[[(2 * 20 + 1) / 32 - 1, (2 * 10 + 1) / 32 - 1, 0.0]]]).repeat(8, 14, 1)
    xs, ys = augment("hands", x, y, g, shift_px=3.0, intensity=0.0)
    assert xs.max() <= 1.0 and (xs > 0.999).float().mean() > 0.9  # the fill is background
    for img, joint in zip(xs[:, 0], ys[:, 0]):
        flat = int(img.argmin())
        v, u = divmod(flat, 32)
        u_lab, v_lab = ((joint[0] + 1) * 32 - 1) / 2, ((joint[1] + 1) * 32 - 1) / 2
        assert abs(u - u_lab) <= 0.5 + 1e-6 and abs(v - v_lab) <= 0.5 + 1e-6


def test_gaze_metrics_known_angles():
    true = np.zeros((4, 2))
    pred = np.radians([[0, 5], [0, 10], [3, 4], [0, 0]])
    err = angular_error_deg(pred, true)
    np.testing.assert_allclose(err, [5, 10, 5, 0], atol=0.01)  # 3-4-5 is near-exact for small angles
    m, rows = gaze_metrics(pred, true)
    assert m["pct_within_7deg"] == 75.0 and rows[-1] == {"threshold_deg": 20.0, "pct_within": 100.0}
    np.testing.assert_array_equal(percent_within(np.array([1.0, 2.0, 3.0]), np.array([0, 2, 5])), [0, 200 / 3, 100])


def test_hand_metrics_perfect_and_offset():
    xyz = np.random.default_rng(0).normal(0, 100, (5, 14, 3))
    uv = np.random.default_rng(1).uniform(0, 640, (5, 14, 2))
    m, _ = hand_metrics(xyz, xyz, uv, uv)
    assert m["mean_joint_error_mm"] == 0 and m["pct_joints_within_5px"] == 100
    m, _ = hand_metrics(xyz + [0, 0, 10], xyz, uv + [6, 0], uv)
    assert m["mean_joint_error_mm"] == pytest.approx(10) and m["pct_joints_within_5px"] == 0


def test_hand_worst_joint_curve_counts_frames_by_their_worst_joint():
    """NYU's curve: a frame counts at d only when all its joints are within d."""
    true = np.zeros((4, 14, 3))
    pred = true.copy()
    pred[1, 0, 0] = 30.0          # one bad joint fails frame 1 below 30 mm
    pred[2, :, 2] = 10.0          # every joint 10 mm off
    pred[3, :7, 1] = 50.0         # half the joints 50 mm off
    uv = np.zeros((4, 14, 2))
    m, rows = hand_metrics(pred, true, uv, uv)
    by_d = {r["threshold_mm"]: r for r in rows}
    assert [by_d[d]["pct_frames_worst_within"] for d in (0.0, 10.0, 30.0, 50.0)] == [25.0, 50.0, 75.0, 100.0]
    assert by_d[10.0]["pct_within"] == pytest.approx(100 * (14 + 13 + 14 + 7) / 56)  # the joint curve is kinder
    assert m["pct_frames_worst_within_40mm"] == 75.0


def test_budget_is_steps_not_set_size():
    g = torch.Generator().manual_seed(0)
    idx = index_stream(10, 35, g)
    assert len(idx) == 35 and sorted(idx[:10].tolist()) == list(range(10)) and idx.max() == 9


def test_fit_learns_and_is_deterministic(eyes_root):
    data = load_labelled("eyes", eyes_root / "shards/eyes/synthetic", max_samples=48)
    config = estimator_config("eyes", TINY.width, data.images.shape[2:])
    m1, h1 = fit(config, data, TINY, 0, torch.device("cpu"))
    m2, h2 = fit(config, data, TINY, 0, torch.device("cpu"))
    assert h1 == h2 and len(h1) == 3 and h1[-1]["step"] == 9
    assert h1[-1]["train_loss"] < h1[0]["train_loss"]
    for (k, a), b in zip(m1.state_dict().items(), m2.state_dict().values()):
        assert torch.equal(a, b), k


def test_hand_evaluation_chain_is_exact_on_the_labels(tmp_path):
    """targets -> crop px -> frame (crops.hands.uncrop_uvd) -> xyz gives back the labelled joints."""
    from pipeline.estimate.evaluate import hand_frame_joints

    split = load_labelled("hands", write_split(tmp_path, "hands", "real_test", 12, 0))
    assert split.images.shape == (12, 1, 32, 32) and split.images.max() == 1.0  # background is +1
    uv, xyz = hand_frame_joints(decode_hand_targets(split.targets, split.metas), split.metas)
    true_xyz = np.array([m["labels"]["joints_xyz"] for m in split.metas])
    np.testing.assert_allclose(xyz, true_xyz, atol=1e-3)
    m, rows = hand_metrics(xyz, true_xyz, uv, uv)
    assert m["mean_joint_error_mm"] < 1e-3
    assert rows[1] == {"threshold_mm": 2.0, "pct_within": 100.0, "pct_frames_worst_within": 100.0}


def test_labels_file_missing_keys_is_a_clear_error(eyes_root, tmp_path):
    import pyarrow.parquet as pq

    split_dir, labels = training_paths(eyes_root, "eyes", "real_train")
    pq.write_table(pq.read_table(labels).slice(0, 10), tmp_path / "short.parquet")
    with pytest.raises(PipelineError, match=r"54 samples have no row in the labels file"):
        load_labelled("eyes", split_dir, labels_path=tmp_path / "short.parquet")
    with pytest.raises(PipelineError, match="labels file missing"):
        load_labelled("eyes", split_dir, labels_path=tmp_path / "absent.parquet")


def test_equalize_hist_is_cv2s_mapping():
    import cv2

    from pipeline.nets.gaze import equalize_hist

    rng = np.random.default_rng(0)
    images = np.stack([rng.integers(40, 120, (35, 55)), rng.integers(0, 256, (35, 55)),
                       np.full((35, 55), 77), np.clip(rng.normal(100, 5, (35, 55)), 0, 255)]).astype(np.uint8)
    x = torch.from_numpy(images.astype(np.float32) / 127.5 - 1)[:, None]
    out = ((equalize_hist(x)[:, 0] + 1) * 127.5).round().numpy().astype(np.uint8)
    np.testing.assert_array_equal(out, np.stack([cv2.equalizeHist(im) for im in images]))


def test_equalizing_gaze_net_ignores_monotonic_grey_changes_and_keeps_the_option_in_its_checkpoint(tmp_path):
    from pipeline.estimate.model import build_estimator, load_estimator, save_estimator

    config = estimator_config("eyes", 4, (35, 55), equalize=True)
    torch.manual_seed(0)
    net = build_estimator(config).eval()
    u8 = torch.randint(0, 120, (3, 1, 35, 55)).float()
    x, brighter = u8 / 127.5 - 1, (u8 * 2 + 10) / 127.5 - 1  # the same levels in the same order, stretched
    assert torch.equal(net(x), net(brighter))
    plain = build_estimator(estimator_config("eyes", 4, (35, 55)))
    plain.load_state_dict(net.state_dict())
    assert not torch.equal(plain.eval()(x), plain(brighter))
    save_estimator(tmp_path / "m.pt", net, config)
    loaded, _ = load_estimator(tmp_path / "m.pt", "eyes", (35, 55))
    assert loaded.equalize and torch.equal(loaded(x), net(x))
    assert "equalize" not in estimator_config("hands", 4, (32, 32), equalize=True)
