"""Model-space conversion of shard images, dispatched by domain.

The crop transforms themselves live in crops/eyes.py and crops/hands.py (one place each);
this module only picks the right one, so stages stay domain-agnostic.
"""
from __future__ import annotations

import importlib

import numpy as np

from pipeline.params import DOMAINS


def _module(domain: str):
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; expected one of {DOMAINS}")
    return importlib.import_module(f"pipeline.crops.{domain}")


def normalize(domain: str, image: np.ndarray, meta: dict) -> np.ndarray:
    """Shard image (uint8 grey / uint16 depth mm) -> float32 (H, W) in [-1, 1]."""
    return _module(domain).normalize(image, meta)


def denormalize(domain: str, x: np.ndarray, meta: dict) -> np.ndarray:
    """Model output in [-1, 1] -> the shard's image dtype (uint8 / uint16 mm)."""
    return _module(domain).denormalize(x, meta)
