"""Training checkpoints: written atomically, loaded with weights_only=True, tied to their params.

A checkpoint stores the params hash of the run that wrote it; a run with other params ignores
it and starts fresh, so a stale checkpoint can never leak into a differently configured model.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.files import json_text, load_torch


FORMAT = 1  # bump when the checkpoint layout changes: older checkpoints then start fresh


def params_hash(config: dict) -> str:
    """A stable hash of everything that defines a training run (JSON with sorted keys)."""
    return hashlib.sha256(json_text({"format": FORMAT, **config}, indent=None).encode()).hexdigest()[:16]


def load_checkpoint(path: str | Path, expected_hash: str) -> dict | None:
    """The checkpoint at `path` if it exists and was written with the same params, else None."""
    path = Path(path)
    if not path.exists():
        return None
    state = load_torch(path)
    if state.get("params_hash") != expected_hash:
        return None
    return state
