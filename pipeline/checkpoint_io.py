"""Reading a saved model file safely (weights_only) with one clear error for a bad file."""
from __future__ import annotations

from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.files import load_torch


def read_checkpoint(path: str | Path, kind: str, missing: str) -> dict:
    """The checkpoint dict at `path` (it must hold a "config"); PipelineError naming the file."""
    path = Path(path)
    if not path.exists():
        raise PipelineError(f"{path}: {missing}")
    try:
        saved = load_torch(path)
        saved["config"]
    except Exception as e:  # torch raises many types for a file that is not a checkpoint
        raise PipelineError(f"{path}: not {kind} checkpoint ({type(e).__name__}: {e})") from None
    return saved
