"""Realism of refined images, judged by networks trained here (never the GAN's own discriminator).

- Classifier two-sample test (C2ST, Lopez-Paz & Oquab 2017): a fresh small CNN learns real vs
  synthetic, another real vs refined, on the same real images and the same synthetic keys (refined
  images are the synthetic ones after R, so the pair differs only by refinement). Held-out accuracy
  near 50% means the classifier cannot tell; its p-value is the one-sided binomial test of
  "accuracy > 50%" (scipy.stats.binomtest); the held-out log-loss (ln 2 = chance) grades sets
  whose accuracies both saturate. Each accuracy has its exact (Clopper-Pearson) 95 % interval.
- KID (Binkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel, mean and std over
  random subsets (at most half of each set, so the subsets differ), on the penultimate features of
  the real-oracle estimator (trained on real images for the task, as Inception was on real photos).

Within population (the headline rows): the real reference is real_holdout, other frames of the
very people / sequences whose real_train frames R learned from (pipeline/ingest/splits.py), so a
refined image is judged against its own population, not against who the person is. The floor is
real_train vs real_holdout: two draws of one population, near chance (50 %) when nothing but the
frames differ. Across populations (a second, labelled row): the same tests against real_val
(other people / rooms); its floor, real_train vs real_val, measures how far apart the populations
are. Neither reads real_test, which the evaluate stage alone reads.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import binomtest
from torch import nn

from pipeline.device import autocast
from pipeline.errors import PipelineError
from pipeline.estimate.data import read_images
from pipeline.estimate.train import index_stream
from pipeline.params import Realism


class C2STNet(nn.Module):
    """Four stride-2 3x3 conv + batch-norm layers (receptive field 31 px: the whole eye crop, a
    finger's edge), global average pool, a linear logit."""

    def __init__(self, width: int = 16):
        super().__init__()
        layers, c_in = [], 1
        for c_out in (width, 2 * width, 4 * width, 8 * width):
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
            c_in = c_out
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.logit = nn.Linear(c_in, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logit(self.features(x)).squeeze(1)


def train_classifier(x: np.ndarray, y: np.ndarray, cfg: Realism, seed: int, device: torch.device) -> C2STNet:
    torch.manual_seed(seed)
    model = C2STNet(cfg.width).to(device, memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(seed)
    steps = cfg.epochs * -(-len(x) // cfg.batch_size)
    order = index_stream(len(x), steps * cfg.batch_size, g).view(steps, cfg.batch_size)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.float32))
    for idx in order:
        xb = xt[idx].to(device, memory_format=torch.channels_last)
        with autocast(device, cfg.precision):
            logits = model(xb)
        loss = F.binary_cross_entropy_with_logits(logits.float(), yt[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def outputs(fn, x: np.ndarray, device: torch.device, precision: str) -> np.ndarray:
    """fn(batch) over (N, 1, H, W) images in fixed batches, as float64 numpy."""
    out = []
    for i in range(0, len(x), 512):
        with autocast(device, precision):
            out.append(fn(torch.from_numpy(x[i:i + 512]).to(device, memory_format=torch.channels_last)).float().cpu())
    return torch.cat(out).numpy().astype(np.float64)


def c2st(real: np.ndarray, other: np.ndarray, n_test: int, cfg: Realism, seed: int, device: torch.device) -> dict:
    """Train on all but the first `n_test` of each set (balanced), test on those: accuracy and p-value."""
    x_train = np.concatenate([real[n_test:], other[n_test:]])
    y_train = np.r_[np.ones(len(real) - n_test), np.zeros(len(other) - n_test)]
    model = train_classifier(x_train, y_train, cfg, seed, device)
    logit_real = outputs(model, real[:n_test], device, cfg.precision)
    logit_other = outputs(model, other[:n_test], device, cfg.precision)
    correct = int((logit_real > 0).sum() + (logit_other <= 0).sum())
    total = 2 * n_test
    p = binomtest(correct, total, 0.5, alternative="greater").pvalue
    ci = binomtest(correct, total, 0.5).proportion_ci(confidence_level=0.95, method="exact")
    # held-out cross-entropy: still tells "less sure" apart when both accuracies saturate at 100%
    log_loss = float((np.logaddexp(0, -logit_real).sum() + np.logaddexp(0, logit_other).sum()) / total)
    return {"accuracy": correct / total, "ci95": [float(ci.low), float(ci.high)], "p_value": float(p),
            "log_loss": log_loss, "n_test": total, "n_train": int(len(x_train))}


def kid(fx: np.ndarray, fy: np.ndarray, subsets: int, subset_size: int, seed: int) -> tuple[float, float]:
    """Kernel Inception Distance between feature sets: (mean, std) of unbiased MMD^2 over subsets.
    A subset holds at most half of each set: subsets of the whole set would all be the same (std 0)."""
    rng = np.random.default_rng(seed)
    m = max(2, min(subset_size, len(fx) // 2, len(fy) // 2))
    d = fx.shape[1]
    vals = []
    for _ in range(subsets):
        x = fx[rng.choice(len(fx), m, replace=False)]
        y = fy[rng.choice(len(fy), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3)
        off = m * (m - 1)
        vals.append((kxx.sum() - np.trace(kxx)) / off + (kyy.sum() - np.trace(kyy)) / off - 2 * kxy.mean())
    return float(np.mean(vals)), float(np.std(vals))


def measure_realism(real: np.ndarray, synthetic: np.ndarray, refined: np.ndarray, feature_net: nn.Module | None,
                    cfg: Realism, seed: int, device: torch.device, real_other: np.ndarray,
                    cross_population: np.ndarray | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """C2ST, and KID on `feature_net.embed` features, for (N, 1, H, W) image sets; `refined[i]` is
    `synthetic[i]` after R. `real` is the reference (real_holdout: R's population, other frames);
    `real_other` (real_train) gives the floors, c2st["real"] and kid["real"]; `cross_population`
    (real_val), when given, the second row out["cross_population"]["c2st"] (same sets against it).
    Returns the metrics and the held-out features per set (for the report)."""
    sets = [real, synthetic, refined, real_other] + ([cross_population] if cross_population is not None else [])
    n = min(len(x) for x in sets)
    n_test = max(1, int(round(n * cfg.test_fraction)))
    rng = np.random.default_rng(seed)
    # random held-out parts; synthetic and refined share one order so they stay paired
    real = real[rng.permutation(len(real))[:n]]
    paired = rng.permutation(min(len(synthetic), len(refined)))[:n]
    synthetic, refined = synthetic[paired], refined[paired]
    against = {"synthetic": synthetic, "refined": refined, "real": real_other[rng.permutation(len(real_other))[:n]]}
    out = {"n_per_set": n, "c2st": {name: c2st(real, x, n_test, cfg, seed, device) for name, x in against.items()},
           "kid": {}}
    if cross_population is not None:
        other = cross_population[rng.permutation(len(cross_population))[:n]]
        out["cross_population"] = {"c2st": {name: c2st(other, x, n_test, cfg, seed, device)
                                            for name, x in against.items()}}
    if feature_net is None:  # unlabelled real data: no real-oracle estimator to take features from
        out["kid_skipped"] = "no real-oracle estimator (no labelled real test split)"
        return out, {}
    feature_net = feature_net.eval().to(device, memory_format=torch.channels_last)
    feats = {name: outputs(feature_net.embed, x[:n_test], device, cfg.precision)
             for name, x in (("real", real), ("synthetic", synthetic), ("refined", refined),
                             ("real_other", against["real"]))}
    if n_test < 2:  # a small dataset of your own: MMD needs two images a side
        out["kid_skipped"] = f"{n_test} held-out image(s) per set: KID needs at least 2"
        return out, {k: v for k, v in feats.items() if k != "real_other"}
    for name in ("synthetic", "refined"):
        mean, std = kid(feats["real"], feats[name], cfg.kid_subsets, cfg.kid_subset_size, seed)
        out["kid"][name] = {"mean": mean, "std": std}
    if n_test >= 4:  # the floor: the same population's other frames (subsets of >= 2 each)
        mean, std = kid(feats["real"], feats["real_other"], cfg.kid_subsets, cfg.kid_subset_size, seed)
        out["kid"]["real"] = {"mean": mean, "std": std}
    out["kid_features"] = f"penultimate layer of the real-oracle estimator ({feats['real'].shape[1]}-d)"
    return out, {k: v for k, v in feats.items() if k != "real_other"}


def load_sets(domain: str, shards_root: str | Path, max_samples: int, seed: int) -> dict[str, np.ndarray]:
    """Images of real_holdout (the reference), real_train (the floor), real_val (the cross-population
    row; None when empty), synthetic and refined (matched to the synthetic subset by key); never
    real_test. Labels are not read."""
    root = Path(shards_root) / domain
    _, real, _ = read_images(domain, root / "real_holdout", max_samples, seed)
    _, real_other, _ = read_images(domain, root / "real_train", max_samples, seed)
    try:
        _, cross, _ = read_images(domain, root / "real_val", max_samples, seed)
    except PipelineError:
        cross = None  # no real_val ingested
    syn_keys, synthetic, _ = read_images(domain, root / "synthetic", max_samples, seed)
    ref_keys, refined, _ = read_images(domain, root / "refined")
    where = {k: i for i, k in enumerate(ref_keys)}
    missing = [k for k in syn_keys if k not in where]
    if missing:
        raise PipelineError(f"{root / 'refined'}: {len(missing)} synthetic samples have no refined "
                            f"counterpart (e.g. {missing[0]}); was refine run on this synthetic split?")
    refined = refined[[where[k] for k in syn_keys]]
    if cross is not None and len(cross) == 0:
        cross = None
    shapes = {x.shape[1:] for x in (real, real_other, synthetic, refined) + ((cross,) if cross is not None else ())}
    if len(shapes) > 1:
        raise PipelineError(f"{root}: real, synthetic and refined crops differ in shape: {sorted(shapes)}")
    return {"real": real, "real_other": real_other, "cross_population": cross, "synthetic": synthetic,
            "refined": refined}
