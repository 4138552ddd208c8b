"""bench/appearance_gap.py: the equalized view sees detail, not tone. A refiner that only stretches
grey levels closes much of the raw gradient gap and none of the equalized one."""
import torch
import torch.nn.functional as F

from pipeline.nets.gaze import equalize_hist
from support.bench import bench_module

appearance_gap = bench_module("appearance_gap")


def eye_like_sets(n: int = 64) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    smooth = F.avg_pool2d(torch.rand(n, 1, 35, 55, generator=g) * 2 - 1, 5, stride=1, padding=2,
                          count_include_pad=False)
    smooth = (0.3 * smooth / smooth.std()).clamp(-0.6, 0.6)  # low contrast, clean
    synthetic = ((smooth + 1) * 127.5).round() / 127.5 - 1  # on the uint8 grid the crops are stored on
    real = equalize_hist(synthetic + 0.01 * torch.randn(synthetic.shape, generator=g))  # equalized, a little noise
    return {"synthetic": synthetic, "refined": synthetic, "real": real}


def test_an_identity_refiner_closes_nothing_in_either_view():
    result = appearance_gap.views(eye_like_sets())
    for name in ("raw", "equalized"):
        assert result[name]["gap_closed"]["gradient"] == 0.0
        assert result[name]["gap_closed"]["high_freq"] == 0.0


def test_a_grey_level_stretch_closes_the_raw_gradient_gap_but_not_the_equalized_one():
    sets = eye_like_sets()
    sets["refined"] = sets["synthetic"] * 1.6  # monotone: distinct uint8 levels stay distinct, none clipped
    result = appearance_gap.views(sets)
    assert result["raw"]["gap_closed"]["gradient"] > 0.5
    assert result["raw"]["gap_closed"]["contrast"] > 0.5
    assert result["equalized"]["gap_closed"]["gradient"] == 0.0
    assert result["equalized"]["gap_closed"]["high_freq"] == 0.0
    # the refined crops written equalized: the tone is matched (the real crops' flat histogram)
    assert result["refined_equalized_vs_raw"]["gap_closed"]["contrast"] > 0.9
    assert result["synthetic_equalized_vs_raw"] == result["refined_equalized_vs_raw"]  # same histogram map
