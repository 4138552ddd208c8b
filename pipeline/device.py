"""Device and precision: CUDA with AMP when present, else CPU with bf16 autocast (AMX)."""
from __future__ import annotations

import contextlib

import torch


def pick_device(prefer: str = "auto") -> torch.device:
    if prefer == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


def amp_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """The autocast dtype for `precision` ("auto" | "bf16" | "fp32"), or None for fp32."""
    if precision == "fp32":
        return None
    if device.type == "cuda" and precision == "auto" and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def autocast(device: torch.device, precision: str = "auto"):
    dtype = amp_dtype(device, precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def memory_format(device: torch.device) -> torch.memory_format:
    # channels_last speeds up CPU convolutions (oneDNN) and tensor cores alike
    return torch.channels_last
