"""SimGAN losses (paper eqs. 2-4): patch-wise adversarial cross-entropy and self-regularization.

Discriminator logits are (N, 2, h, w); class 1 = real, class 0 = refined. Every loss is the
mean over images *and* patches, so the local and the global D share one code path and the
loss scale does not depend on the image size.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

REAL, REFINED = 1, 0
SELF_REG = ("identity", "channel_mean", "derivatives", "lowpass")
LOWPASS = 4  # lowpass psi: means over 4x4 blocks (a 55x35 eye crop -> 13x8 cells)


def patch_targets(logits: torch.Tensor, label: int) -> torch.Tensor:
    n, _, h, w = logits.shape
    return torch.full((n, h, w), label, dtype=torch.long, device=logits.device)


def patch_cross_entropy(logits: torch.Tensor, label: int) -> torch.Tensor:
    """Cross-entropy of every patch against `label`, averaged over images and patches."""
    return F.cross_entropy(logits.float(), patch_targets(logits, label))


def discriminator_loss(real_logits: torch.Tensor, refined_logits: torch.Tensor) -> torch.Tensor:
    """-log D(y) - log(1 - D(R(x))), averaged over patches (paper eq. 2)."""
    return patch_cross_entropy(real_logits, REAL) + patch_cross_entropy(refined_logits, REFINED)


def adversarial_loss(refined_logits: torch.Tensor) -> torch.Tensor:
    """The refiner's realism loss: -log D(R(x)) on every patch (fool D everywhere)."""
    return patch_cross_entropy(refined_logits, REAL)


def psi(x: torch.Tensor, kind: str) -> torch.Tensor:
    """The feature map compared by self-regularization (paper §3.1 and §3.3)."""
    if kind == "identity":
        return x
    if kind == "channel_mean":
        return x.mean(dim=1, keepdim=True)
    if kind == "derivatives":
        dx = x[..., :, 1:] - x[..., :, :-1]
        dy = x[..., 1:, :] - x[..., :-1, :]
        return torch.cat([dx.flatten(1), dy.flatten(1)], dim=1)
    if kind == "lowpass":  # the paper's psi left general: only what the labels need (where the
        # iris, lids and brow sit) is held; detail finer than a cell (texture, noise) is R's to add
        return F.avg_pool2d(x, LOWPASS, ceil_mode=True)
    raise ValueError(f"unknown self-regularization {kind!r}; expected one of {SELF_REG}")


def region_weights(synthetic: torch.Tensor, kind: str, region: str) -> torch.Tensor | None:
    """Where psi's elements count: everywhere (None), or only where the synthetic image is below
    the far plane (+1): the hand in a depth crop. A derivative counts when both its pixels do."""
    if region == "all":
        return None
    m = (synthetic < 1.0).float()
    if kind == "channel_mean":
        return m.amax(dim=1, keepdim=True)
    if kind == "derivatives":
        return torch.cat([(m[..., :, 1:] * m[..., :, :-1]).flatten(1), (m[..., 1:, :] * m[..., :-1, :]).flatten(1)], 1)
    if kind == "lowpass":
        raise ValueError("the lowpass self-regularization has no foreground region (a cell mixes hand and background)")
    return m


def self_regularization_loss(refined: torch.Tensor, synthetic: torch.Tensor, kind: str,
                             region: str = "all", hole_cost: float = 0.0) -> torch.Tensor:
    """||psi(R(x)) - psi(x)||_1 as a per-element mean (the paper's sum divided by the element
    count), over the whole image or over the foreground (`region_weights`).

    hole_cost > 0 (identity psi): each pixel costs min(|R(x) - x|, hole_cost + |R(x) - 1|), so
    turning a pixel into a hole (the far plane, +1) costs a fixed price however far it moves."""
    synthetic, refined = synthetic.float(), refined.float()
    diff = (psi(refined, kind) - psi(synthetic, kind)).abs()
    if hole_cost > 0:
        if kind != "identity":
            raise ValueError(f"hole_cost needs the identity self-regularization, not {kind!r}")
        diff = torch.minimum(diff, hole_cost + (1.0 - refined).abs())
    w = region_weights(synthetic, kind, region)
    return diff.mean() if w is None else (diff * w).sum() / w.sum().clamp(min=1.0)


def patch_accuracy(logits: torch.Tensor, label: int) -> torch.Tensor:
    """Fraction of patches D assigns to `label`."""
    return (logits.argmax(dim=1) == label).float().mean()
