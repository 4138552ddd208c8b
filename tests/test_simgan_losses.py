"""SimGAN losses: every patch counts, self-regularization options behave as their names say."""
import math

import pytest
import torch

from pipeline.simgan.losses import (REAL, REFINED, SELF_REG, adversarial_loss, discriminator_loss, patch_accuracy, psi,
                                    self_regularization_loss)


def logits_map(real_score: torch.Tensor) -> torch.Tensor:
    """(N, 2, h, w) logits whose class-1 (real) minus class-0 logit is `real_score`."""
    return torch.stack([torch.zeros_like(real_score), real_score], dim=1)


def test_adversarial_loss_averages_every_patch():
    score = torch.zeros(2, 9, 14)
    score[0, 3, 4] = 5.0  # one patch confidently real, all others undecided
    per_patch = torch.nn.functional.softplus(-score)  # -log sigmoid(score) = CE against "real"
    assert adversarial_loss(logits_map(score)).item() == pytest.approx(per_patch.mean().item(), rel=1e-6)
    assert adversarial_loss(logits_map(score)).item() < math.log(2)


def test_discriminator_loss_rewards_separating_real_and_refined():
    right = discriminator_loss(logits_map(torch.full((4, 9, 14), 4.0)), logits_map(torch.full((4, 9, 14), -4.0)))
    wrong = discriminator_loss(logits_map(torch.full((4, 9, 14), -4.0)), logits_map(torch.full((4, 9, 14), 4.0)))
    assert right < 0.1 < 8 < wrong


def test_patch_accuracy_counts_patches():
    score = torch.full((1, 2, 5), 1.0)
    score[0, 0, :3] = -1.0  # 3 of 10 patches say "refined"
    assert patch_accuracy(logits_map(score), REAL).item() == pytest.approx(0.7)
    assert patch_accuracy(logits_map(score), REFINED).item() == pytest.approx(0.3)


@pytest.mark.parametrize("kind", ["identity", "channel_mean", "derivatives"])
def test_self_regularization_is_zero_for_unchanged_images(kind):
    x = torch.rand(2, 1, 35, 55)
    assert self_regularization_loss(x, x, kind).item() == 0


def test_derivatives_ignore_a_brightness_shift_identity_does_not():
    x = torch.rand(2, 1, 35, 55)
    assert self_regularization_loss(x + 0.2, x, "identity").item() == pytest.approx(0.2, rel=1e-5)
    assert self_regularization_loss(x + 0.2, x, "derivatives").item() == pytest.approx(0, abs=1e-6)


def test_channel_mean_compares_channel_averages():
    x = torch.rand(2, 3, 8, 8)
    swapped = x[:, [2, 1, 0]]
    assert self_regularization_loss(swapped, x, "channel_mean").item() == pytest.approx(0, abs=1e-6)
    assert self_regularization_loss(swapped, x, "identity").item() > 0.05
    assert psi(x, "channel_mean").shape == (2, 1, 8, 8)


def test_unknown_self_regularization_is_an_error():
    with pytest.raises(ValueError, match="unknown self-regularization"):
        psi(torch.zeros(1, 1, 4, 4), "fourier")


@pytest.mark.parametrize("kind", [k for k in SELF_REG if k != "lowpass"])
def test_foreground_region_ignores_the_far_plane_and_averages_over_the_hand(kind):
    x = torch.ones(2, 1, 8, 8)                # background at the far plane
    x[:, :, 2:6, 2:6] = -0.5                  # a 4x4 "hand"
    clutter = x.clone()
    clutter[:, :, 0, :] = -0.9                # changes outside the hand only
    assert self_regularization_loss(clutter, x, kind, "foreground").item() == 0
    assert self_regularization_loss(clutter, x, kind, "all").item() > 0
    if kind != "derivatives":
        pushed = x.clone()
        pushed[:, :, 2:6, 2:6] += 0.2          # the whole hand moves: the mean over the hand is 0.2
        assert self_regularization_loss(pushed, x, kind, "foreground").item() == pytest.approx(0.2, rel=1e-5)
        assert self_regularization_loss(pushed, x, kind, "all").item() == pytest.approx(0.2 * 16 / 64, rel=1e-5)


def test_hole_cost_prices_a_hole_at_a_fixed_cost_but_not_a_moved_surface():
    x = torch.full((1, 1, 4, 4), -0.5)           # a flat surface, all foreground
    holes = x.clone()
    holes[..., :2, :] = 1.0                      # half the pixels dropped to the far plane
    moved = x + 0.6                              # the surface pushed back
    assert self_regularization_loss(holes, x, "identity", "foreground", hole_cost=0.2).item() == pytest.approx(0.1)
    assert self_regularization_loss(holes, x, "identity", "foreground").item() == pytest.approx(0.75)
    assert self_regularization_loss(moved, x, "identity", "foreground", hole_cost=0.2).item() == pytest.approx(0.6)
    with pytest.raises(ValueError, match="hole_cost needs the identity"):
        self_regularization_loss(holes, x, "derivatives", hole_cost=0.2)


def test_lowpass_lets_fine_detail_through_but_not_a_moved_iris():
    """lowpass psi: zero-mean grain within 4x4 cells costs nothing (identity psi charges it),
    while a dark disc moved by 4 px costs about what identity charges."""
    yy, xx = torch.meshgrid(torch.arange(36.0), torch.arange(56.0), indexing="ij")
    disc = lambda cx: torch.where((xx - cx) ** 2 + (yy - 18) ** 2 < 49, -0.8, 0.6)[None, None]  # noqa: E731
    x = disc(28.0)
    grain = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(18, 28)[None, None] * 0.2  # sums to 0 per cell
    assert self_regularization_loss(x + grain, x, "lowpass").item() < 1e-6
    assert self_regularization_loss(x + grain, x, "identity").item() == pytest.approx(0.2, rel=1e-4)
    moved = self_regularization_loss(disc(32.0), x, "lowpass").item()
    assert moved > 0.25 * self_regularization_loss(disc(32.0), x, "identity").item() > 0.01
