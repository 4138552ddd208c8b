"""One SimGAN training step of each kind, and the schedule that orders them (paper Alg. 1).

Schedule: `pretrain_r_steps` refiner steps on self-regularization alone (R learns the identity),
`pretrain_d_steps` discriminator steps, then `steps` adversarial rounds of K_g refiner steps and
K_d discriminator steps. Steps are numbered 0..total-1 across the three phases, which is what
checkpoints record.

Under DDP the trainer gets the wrapped modules for the updates (`r_train`, `d_train`) and the
plain ones for forwards that must not reduce gradients (D inside a refiner step, R inside a
discriminator step); each backward then all-reduces exactly one network's gradients.

The delivered refiner is an exponential moving average of R's weights over the adversarial
phase (`ema_decay`; 0 = the last R): at CPU budgets a GAN's last iterate swings with every D
update, the average does not (the generator EMA of Karras et al. 2018 / Yazici et al. 2019).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from pipeline.device import autocast, memory_format
from pipeline.params import TrainRefiner
from pipeline.simgan.history import HistoryBuffer
from pipeline.simgan.losses import (REAL, REFINED, adversarial_loss, discriminator_loss, patch_accuracy,
                                    self_regularization_loss)


@dataclass(frozen=True)
class Schedule:
    pretrain_r: int
    pretrain_d: int
    adversarial: int

    @classmethod
    def of(cls, cfg: TrainRefiner) -> "Schedule":
        return cls(cfg.pretrain_r_steps, cfg.pretrain_d_steps, cfg.steps)

    @property
    def total(self) -> int:
        return self.pretrain_r + self.pretrain_d + self.adversarial

    def phase(self, step: int) -> str:
        if step < self.pretrain_r:
            return "pretrain_r"
        if step < self.pretrain_r + self.pretrain_d:
            return "pretrain_d"
        return "adversarial"

    def batches_before(self, step: int, k_g: int, k_d: int) -> tuple[int, int]:
        """(synthetic, real) batches that steps 0..step-1 draw (as run_step draws them): a resumed
        run skips exactly these, so it sees the batches an uninterrupted run would."""
        r = min(step, self.pretrain_r)
        d = min(max(step - self.pretrain_r, 0), self.pretrain_d)
        a = max(step - self.pretrain_r - self.pretrain_d, 0)
        return r + d + a * (k_g + k_d), d + a * k_d


def mean_metrics(steps: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {k: torch.stack([m[k] for m in steps]).mean() for k in steps[0]}


def set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


@dataclass
class SimGAN:
    cfg: TrainRefiner
    refiner: nn.Module          # plain modules (forwards without gradient sync)
    disc: nn.Module
    r_train: nn.Module          # the modules that get updated: DDP wrappers under torchrun
    d_train: nn.Module
    opt_r: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    history: HistoryBuffer | None
    device: torch.device
    ema: AveragedModel | None = None  # running average of R's weights over the adversarial phase

    @property
    def final_refiner(self) -> nn.Module:
        """What the run delivers: the weight average once it has started, else R itself."""
        return self.ema.module if self.ema is not None and self.ema.n_averaged > 0 else self.refiner

    def amp(self):
        """Mixed precision for this run's device and `precision` (pipeline.device)."""
        return autocast(self.device, self.cfg.precision)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.device, non_blocking=True).contiguous(memory_format=memory_format(self.device))

    def _update(self, opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def pretrain_refiner_step(self, synthetic: torch.Tensor) -> dict[str, torch.Tensor]:
        """R learns to reproduce its input, all of it: self-regularization only (on R's image before
        any tone map, which is D's to set: Refiner.forward)."""
        with self.amp():
            _, kept = self.r_train(synthetic, parts=True)
        loss = self_regularization_loss(kept, synthetic, self.cfg.self_reg)
        self._update(self.opt_r, loss)
        return {"loss_reg": loss.detach()}

    def refiner_step(self, synthetic: torch.Tensor) -> dict[str, torch.Tensor]:
        """Fool D on every patch while staying close to the input: l_adv + lambda * l_reg."""
        set_requires_grad(self.disc, False)  # gradients flow through D to R, not into D
        with self.amp():
            refined, kept = self.r_train(synthetic, parts=True)
            logits = self.disc(refined)
        adv = adversarial_loss(logits)
        reg = self_regularization_loss(kept, synthetic, self.cfg.self_reg, self.cfg.self_reg_region,
                                        self.cfg.hole_cost)
        self._update(self.opt_r, adv + self.cfg.lam * reg)
        set_requires_grad(self.disc, True)
        if self.ema is not None:
            self.ema.update_parameters(self.refiner)
        return {"loss_adv": adv.detach(), "loss_reg": reg.detach()}

    def disc_step(self, synthetic: torch.Tensor, real: torch.Tensor) -> dict[str, torch.Tensor]:
        """Real vs refined, the refined half fresh and half from the history buffer."""
        b = len(real)
        n_fresh = self.history.n_fresh(b) if self.history is not None else b
        with torch.no_grad(), self.amp():
            fresh = self.refiner(synthetic[:n_fresh]).float()
        refined = self.history.mix(fresh, b) if self.history is not None else fresh
        batch = torch.cat([real, refined.to(real.dtype)]).contiguous(memory_format=memory_format(self.device))
        with self.amp():
            logits = self.d_train(batch)
        real_logits, refined_logits = logits[:b], logits[b:]
        loss = discriminator_loss(real_logits, refined_logits)
        self._update(self.opt_d, loss)
        return {"loss_d": loss.detach(), "acc_real": patch_accuracy(real_logits.detach(), REAL),
                "acc_refined": patch_accuracy(refined_logits.detach(), REFINED)}

    def run_step(self, step: int, schedule: Schedule, next_synthetic, next_real) -> dict[str, torch.Tensor]:
        """Step `step` of `schedule`; `next_*()` return the next prepared batch of each stream."""
        phase = schedule.phase(step)
        if phase == "pretrain_r":
            return self.pretrain_refiner_step(next_synthetic())
        if phase == "pretrain_d":
            return self.disc_step(next_synthetic(), next_real())
        r_steps = [self.refiner_step(next_synthetic()) for _ in range(self.cfg.k_g)]
        d_steps = [self.disc_step(next_synthetic(), next_real()) for _ in range(self.cfg.k_d)]
        return mean_metrics(r_steps) | mean_metrics(d_steps)

    @torch.no_grad()
    def refine(self, x: torch.Tensor) -> torch.Tensor:
        with self.amp():
            return self.final_refiner(self.prepare(x)).float()

    def state_dict(self) -> dict:
        return {"refiner": self.refiner.state_dict(), "disc": self.disc.state_dict(),
                "opt_r": self.opt_r.state_dict(), "opt_d": self.opt_d.state_dict(),
                "history": self.history.state_dict() if self.history is not None else None,
                "ema": self.ema.state_dict() if self.ema is not None else None}

    def load_state_dict(self, state: dict) -> None:
        self.refiner.load_state_dict(state["refiner"])
        self.disc.load_state_dict(state["disc"])
        self.opt_r.load_state_dict(state["opt_r"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.history is not None and state["history"] is not None:
            self.history.load_state_dict(state["history"])
        if self.ema is not None and state["ema"] is not None:
            self.ema.load_state_dict(state["ema"])
