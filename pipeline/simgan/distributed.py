"""Data-parallel training under torchrun: process group, device per rank, DDP wrapping.

Without torchrun's environment (RANK / WORLD_SIZE) everything degrades to one process and the
modules stay unwrapped. Backends: nccl on CUDA, gloo on CPU.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: torch.device) -> World:
    """Join the torchrun process group if there is one; CUDA ranks get their local GPU."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World(device=device)
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return World(dist.get_rank(), dist.get_world_size(), device)


def wrap(module: nn.Module, world: World, some_unused: bool = False) -> nn.Module:
    """DDP wrapper (broadcasts rank 0's initial weights, all-reduces gradients), or the module.
    some_unused: some parameters get no gradient in some steps (DDP must then look for them)."""
    if world.size == 1:
        return module
    ids = [world.device.index] if world.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=some_unused)


def barrier(world: World) -> None:
    if world.size > 1:
        dist.barrier()


def teardown(world: World) -> None:
    if world.size > 1 and dist.is_initialized():
        dist.destroy_process_group()
