"""The history of refined images (paper §3.2): D also sees what earlier refiners produced.

Without it D forgets old artifacts and R can bring them back. Each D step sees b/2 freshly
refined images and b/2 drawn from the buffer; the fresh ones then overwrite b/2 random slots.
The storage is one preallocated tensor (no per-step concatenation, unlike the public
reimplementation whose `np.append` result was discarded, so its buffer never filled), and
draws come from a seeded generator, so runs repeat exactly and the state checkpoints.
"""
from __future__ import annotations

import torch


class HistoryBuffer:
    def __init__(self, capacity: int, image_shape: tuple[int, ...], seed: int = 0,
                 device: torch.device | str = "cpu"):
        self.images = torch.zeros((capacity, *image_shape), dtype=torch.float32, device=device)
        self.size = 0
        self.generator = torch.Generator(device=device).manual_seed(seed)

    @property
    def capacity(self) -> int:
        return self.images.shape[0]

    def __len__(self) -> int:
        return self.size

    def n_fresh(self, batch_size: int) -> int:
        """How many fresh images the next D batch of `batch_size` needs: b/2 once the buffer can
        supply the other half, more while it is still filling."""
        return batch_size - min(batch_size // 2, self.size)

    def draw(self, n: int) -> torch.Tensor:
        """`n` distinct stored images, chosen at random."""
        if n > self.size:
            raise ValueError(f"cannot draw {n} images from a history holding {self.size}")
        idx = torch.randperm(self.size, generator=self.generator, device=self.images.device)[:n]
        return self.images[idx]

    def push(self, fresh: torch.Tensor) -> None:
        """Store `fresh`: into free slots while the buffer fills, then over random distinct slots."""
        fresh = fresh.detach().to(self.images.dtype)
        n_free = min(self.capacity - self.size, len(fresh))
        self.images[self.size:self.size + n_free] = fresh[:n_free]
        self.size += n_free
        rest = fresh[n_free:][: self.capacity]
        if len(rest):
            slots = torch.randperm(self.capacity, generator=self.generator, device=self.images.device)
            self.images[slots[:len(rest)]] = rest

    def mix(self, fresh: torch.Tensor, batch_size: int) -> torch.Tensor:
        """D's refined batch: `fresh` plus `batch_size - len(fresh)` history images; then store `fresh`."""
        n_old = batch_size - len(fresh)
        batch = fresh.detach().float()
        if n_old > 0:
            batch = torch.cat([batch, self.draw(n_old)])
        self.push(fresh)
        return batch

    def state_dict(self) -> dict:
        return {"images": self.images[:self.size].cpu(), "size": self.size,
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.size = int(state["size"])
        self.images[:self.size] = state["images"].to(self.images.device)
        self.generator.set_state(state["generator"])
