"""train_refiner@<domain> from shards to outputs: build, (resume,) train, guard, write, log.

Outputs (main rank): models/refiner-<domain>.pt (contract format), metrics/train_refiner-<domain>.json,
reports/figures/refiner-<domain>-grid.png. A checkpoint every `checkpoint_every` steps lets a
killed run resume with the same total number of steps; it is tied to a hash of the run's
params and inputs (a change starts fresh) and deleted once the outputs are written.
"""
from __future__ import annotations

import sys
import time
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from pipeline import paths
from pipeline.device import machine, memory_format, pick_device
from pipeline.errors import PipelineError
from pipeline.nets.discriminator import build_discriminator
from pipeline.params import Params
from pipeline.simgan import distributed
from pipeline.simgan.checkpoint import load_checkpoint, params_hash
from pipeline.simgan.data import batch_stream, crop_shape, split_dir
from pipeline.simgan.history import HistoryBuffer
from pipeline.simgan.io import build_refiner, refiner_config, save_refiner
from pipeline.simgan.probe import Probe
from pipeline.simgan.runlog import RunLog, open_run
from pipeline.simgan.trainer import Schedule, SimGAN
from pipeline.simgan.window import MetricWindow, check_finite
from pipeline.codehash import code_hash
from pipeline.files import save_torch, write_json, write_png
from pipeline.shards import list_shards
from pipeline.tracking import data_version, file_sha256

SPLITS = ("synthetic", "real_train")  # never real_test, never data/labels


@dataclass(frozen=True)
class Outputs:
    model: Path
    metrics: Path
    grid: Path
    checkpoint: Path
    lineage: Path

    @classmethod
    def for_domain(cls, domain: str, root: str | Path = ".") -> "Outputs":
        return cls(paths.refiner(domain, root), paths.refiner_metrics(domain, root),
                   paths.refiner_grid(domain, root), paths.refiner_checkpoint(domain, root),
                   paths.lineage(f"train_refiner-{domain}", root))


_T0 = time.perf_counter()


def log(msg: str, world: distributed.World) -> None:
    if world.is_main:
        print(f"[train_refiner {time.perf_counter() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def build_simgan(params: Params, domain: str, world: distributed.World) -> SimGAN:
    cfg = params.domain(domain).train_refiner
    torch.manual_seed(params.seed)  # same initial weights on every rank (DDP broadcasts rank 0's anyway)
    fmt = memory_format(world.device)
    refiner = build_refiner(refiner_config(params, domain)).to(world.device, memory_format=fmt)
    disc = build_discriminator(cfg.discriminator, 1, cfg.d_width).to(world.device, memory_format=fmt)
    history = (HistoryBuffer(cfg.history_size, (1, *crop_shape(params, domain)), params.seed + world.rank,
                             world.device) if cfg.history else None)
    ema = AveragedModel(refiner, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay)) if cfg.ema_decay else None
    # a tone head's share gets no gradient while pretraining: the self-regularization reads R's image before it
    return SimGAN(cfg, refiner, disc, distributed.wrap(refiner, world, some_unused=cfg.tone), distributed.wrap(disc, world),
                  torch.optim.Adam(refiner.parameters(), lr=cfg.lr_r, betas=(cfg.adam_beta1, 0.999)),
                  torch.optim.Adam(disc.parameters(), lr=cfg.lr_d, betas=(cfg.adam_beta1, 0.999)),
                  history, world.device, ema)


def run_identity(params: Params, domain: str, inputs: dict[str, Path]) -> dict:
    """Everything that defines the trained refiner: a checkpoint is only resumed if this matches
    (the code that trains it included: a checkpoint made by other code starts fresh)."""
    return {"domain": domain, "seed": params.seed, "code": code_hash("stages.train_refiner"), "crop": list(crop_shape(params, domain)),
            "train_refiner": asdict(params.domain(domain).train_refiner),
            "inputs": {name: data_version(d) for name, d in inputs.items()}}


@dataclass
class TrainResult:
    metrics: dict
    refiner: torch.nn.Module


def train_refiner(params: Params, domain: str, *, data_root: str | Path = "data",
                  outputs: Outputs | None = None) -> TrainResult:
    """Train R and D on `data_root`'s shards; the main rank writes the outputs and logs the run."""
    cfg = params.domain(domain).train_refiner
    outputs = outputs or Outputs.for_domain(domain)
    world = distributed.setup(pick_device())
    if world.device.type == "cpu" and cfg.threads:
        torch.set_num_threads(cfg.threads)
    inputs = {name: split_dir(data_root, domain, name) for name in SPLITS}
    for split in inputs.values():
        list_shards(split)  # a missing or empty split fails here, naming the folder
    run_hash = params_hash(run_identity(params, domain, inputs))
    gan, schedule = build_simgan(params, domain, world), Schedule.of(cfg)

    start, run_id = 0, ""
    saved = load_checkpoint(outputs.checkpoint, run_hash)
    if saved is not None:
        gan.load_state_dict(saved["gan"])
        start, run_id = int(saved["step"]), saved["mlflow_run_id"]
        if gan.history is not None and world.size > 1:  # ranks share rank 0's history; own draws again
            gan.history.generator.manual_seed(int(np.random.SeedSequence([params.seed, world.rank, start])
                                                  .generate_state(1)[0]))
        log(f"resuming from step {start}/{schedule.total} ({outputs.checkpoint})", world)
    elif outputs.checkpoint.exists():
        log(f"{outputs.checkpoint} was written with other params or inputs: starting fresh", world)

    shape = crop_shape(params, domain)
    stream = dict(workers=cfg.workers, seed=params.seed, rank=world.rank,
                  world_size=world.size, pin_memory=world.device.type == "cuda")
    with closing(batch_stream(inputs["synthetic"], domain, shape, cfg.batch_size, **stream)) as synthetic, \
            closing(batch_stream(inputs["real_train"], domain, shape, cfg.batch_size, **stream)) as real:
        # a resumed run replays the streams to where the checkpoint left them (decoding only: cheap next
        # to training), so it trains on the same batches, in the same order, as an uninterrupted run
        for it, n in zip((synthetic, real), schedule.batches_before(start, cfg.k_g, cfg.k_d)):
            for _ in range(n):
                next(it)
        probe = Probe.read(inputs["synthetic"], inputs["real_train"], domain) if world.is_main else None

        log(f"data and models ready; training steps {start}..{schedule.total} on {world.device} x {world.size}", world)
        host = machine(world.device)  # the CPU kind changes the bytes: recorded in the tags and the metrics
        tags = {"params_hash": run_hash, "domain": domain, "world_size": str(world.size), **host}
        with open_run(world.is_main, domain, run_id, inputs, tags) as runlog:
            if not run_id:
                runlog.params({"domain": domain, "seed": params.seed, "height": shape[0], "width": shape[1],
                               "world_size": world.size, "device": world.device.type, **asdict(cfg)})
            final = _train_loop(gan, schedule, start, synthetic, real, probe, runlog, outputs, run_hash, world,
                                f"train_refiner@{domain}")
            log("training done", world)
            if world.is_main:
                final = _finish(gan, params, domain, final | {"machine": host}, probe, runlog, outputs)
    distributed.barrier(world)
    distributed.teardown(world)
    return TrainResult(final, gan.final_refiner)


def _train_loop(gan: SimGAN, schedule: Schedule, start: int, synthetic, real, probe: Probe | None,
                runlog: RunLog, outputs: Outputs, run_hash: str, world: distributed.World, where: str) -> dict:
    """Steps start..total; logs, grids and checkpoints on the main rank; returns the last window's means."""
    cfg, window, last = gan.cfg, MetricWindow(), {}
    next_syn = lambda: gan.prepare(next(synthetic))  # noqa: E731
    next_real = lambda: gan.prepare(next(real))  # noqa: E731
    t0, images = time.perf_counter(), 0
    per_step = {"pretrain_r": 1, "pretrain_d": 1, "adversarial": cfg.k_g + cfg.k_d}
    for step in range(start, schedule.total):
        window.add(gan.run_step(step, schedule, next_syn, next_real))
        images += per_step[schedule.phase(step)] * cfg.batch_size * world.size
        done = step + 1
        if done % cfg.log_every == 0 or done == schedule.total:
            values = window.pop()
            check_finite(values, done, where)
            last |= values
            if world.is_main:
                values["images_per_s"] = images / (time.perf_counter() - t0)
                values["mean_abs_change"] = probe.mean_change(gan)
                runlog.metrics(values, done)
                log(f"step {done}/{schedule.total} {schedule.phase(step)} "
                    + " ".join(f"{k}={v:.4g}" for k, v in values.items()), world)
        if world.is_main and done % cfg.grid_every == 0:
            runlog.grid(probe.grid(gan), done)
        if world.is_main and done % cfg.checkpoint_every == 0 and done < schedule.total:
            check_finite(window.means(), done, where)
            save_torch({"step": done, "params_hash": run_hash, "mlflow_run_id": runlog.run_id,
                         "gan": gan.state_dict()}, outputs.checkpoint)
    return {"steps": schedule.total, **{k: last[k] for k in sorted(last)}}


def _finish(gan: SimGAN, params: Params, domain: str, final: dict, probe: Probe, runlog: RunLog,
            outputs: Outputs) -> dict:
    """Guard against identity collapse, then write the model, metrics and grid, and log them."""
    cfg = gan.cfg
    scores = probe.evaluate(gan)
    final = final | scores
    if final["mean_abs_change"] < cfg.min_mean_change:
        raise PipelineError(
            f"train_refiner@{domain}: the refiner collapsed to the identity: mean |R(x)-x| = "
            f"{final['mean_abs_change']:.5f} < min_mean_change {cfg.min_mean_change} (in [-1, 1] units); "
            f"lower lam, raise lr_r, or train longer (steps); no model written")
    config = refiner_config(params, domain)
    save_refiner(outputs.model, gan.final_refiner, config, final["steps"])
    write_png(probe.grid(gan), outputs.grid)
    write_json(outputs.metrics, final)
    runlog.metrics({k: v for k, v in scores.items() if isinstance(v, float)}
                   | {f"{group}_{k}": v for group in ("gap_closed", "gap_closed_equalized")
                      for k, v in scores.get(group, {}).items()}, final["steps"])
    runlog.final(gan.final_refiner, config, [outputs.model, outputs.metrics, outputs.grid], domain)
    # per-run facts stay out of the model file (same inputs, same bytes); nothing depends on this file
    write_json(outputs.lineage, {"mlflow_run_id": runlog.run_id, "refiner_sha256": file_sha256(outputs.model),
                                 "seconds": round(time.perf_counter() - _T0, 1)})
    outputs.checkpoint.unlink(missing_ok=True)
    log(f"wrote {outputs.model}, {outputs.metrics}, {outputs.grid}", distributed.World())
    return final
