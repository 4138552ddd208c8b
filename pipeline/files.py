"""The one home for writing and reading files: atomic writes, sorted JSON, CSV, PNG, torch files.

Every writer goes through a temporary sibling and a rename, so a killed process never leaves a
truncated file under the final name; JSON has sorted keys and CSV a fixed column order, so the
same content always gives the same bytes. Torch files load with weights_only=True (no unpickling).
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from pathlib import Path

import cv2
import numpy as np


@contextlib.contextmanager
def atomic_open(path: str | Path):
    """A binary file to stream into; it appears under `path` only when the block ends without error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write `data` to `path` via a temporary sibling and a rename; creates the parent folder."""
    with atomic_open(path) as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return Path(path)


def json_text(doc, indent: int | None = 2) -> str:
    """Sorted-key JSON (stable bytes for the same content), newline-terminated when indented."""
    text = json.dumps(doc, indent=indent, sort_keys=True)
    return text + "\n" if indent is not None else text


def write_json(path: str | Path, doc) -> Path:
    return atomic_write(path, json_text(doc))


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())


def write_jsonl(path: str | Path, rows: list[dict]) -> Path:
    return atomic_write(path, "".join(json_text(r, indent=None) + "\n" for r in rows))


def write_csv(path: str | Path, rows: list[dict]) -> Path:
    """Rows with the first row's keys as the header, in that order."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return atomic_write(path, buf.getvalue())


def png_bytes(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"PNG encoding failed for an image of shape {image.shape} and dtype {image.dtype}")
    return buf.tobytes()


def write_png(image: np.ndarray, path: str | Path) -> Path:
    return atomic_write(path, png_bytes(image))


def save_torch(obj: dict, path: str | Path) -> Path:
    """torch.save to a temporary sibling, then rename."""
    import torch  # lazily: ingest workers must not pay for importing torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return atomic_write(path, buf.getvalue())


def load_torch(path: str | Path) -> dict:
    """A torch file's dict, tensors on the CPU; weights_only=True refuses pickled objects."""
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)
