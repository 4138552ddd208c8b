"""Device and precision: CUDA with AMP when present, else CPU with bf16 autocast (AMX)."""
from __future__ import annotations

import contextlib
import platform
from pathlib import Path

import torch

BF16_UNITS = ("amx_bf16", "avx512_bf16")  # the CPU's bf16 matmul units: their kernels round differently


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


def machine(device: torch.device | None = None) -> dict[str, str]:
    """What a result was computed on: CPU model, its bf16 units, the accelerator, torch. The same
    commit gives other bytes on another CPU kind (bf16 autocast kernels differ between AMX and
    AVX-512 BF16), so outputs that depend on it record it."""
    cpu, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                cpu = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    device = device or pick_device()
    return {"cpu": cpu, "cpu_bf16": " ".join(u for u in BF16_UNITS if u in flags) or "none",
            "accelerator": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "torch": torch.__version__}
