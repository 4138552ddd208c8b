"""bench/hole_refiner.py: holes are hard, seeded by the input, at the rate the hole logit says."""
import torch

from pipeline.nets.refiner import Refiner
from support.bench import bench_module

HoleRefiner = bench_module("hole_refiner").HoleRefiner


def test_holes_are_far_plane_pixels_drawn_at_the_logits_rate_and_the_same_for_the_same_input():
    torch.manual_seed(0)
    r = HoleRefiner(1, 8, 1, 2, "edge")
    x = torch.rand(4, 1, 48, 48) * 1.6 - 0.9
    y = r(x)
    assert torch.equal(y, r(x.clone()))                      # a pure function of x
    plain = Refiner(1, 8, 1, 2, "edge")
    plain.load_state_dict({k: v for k, v in r.state_dict().items() if not k.startswith("hole.")})
    depth_only = plain(x)
    holes = y == 1
    assert torch.allclose(y[~holes], depth_only[~holes], atol=1e-6)  # elsewhere R's depth, untouched
    assert 0.005 < holes.float().mean() < 0.05                        # sigmoid(-4) = 1.8 %
    with torch.no_grad():
        r.hole.bias.fill_(0.0)
    assert 0.45 < (r(x) == 1).float().mean() < 0.55                   # sigmoid(0) = 50 %


def test_the_hole_rate_learns_from_the_loss():
    r = HoleRefiner(1, 8, 1, 2, "edge")
    x = torch.rand(2, 1, 32, 32) * 1.6 - 0.9
    (1 - r(x)).abs().mean().backward()  # a loss that wants holes
    assert r.hole.bias.grad < 0         # gradient descent raises the hole logit
