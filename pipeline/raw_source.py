"""Where a domain's raw input lives: the embedded default's generated folders, or real
dataset folders that `simulate` recorded in data/raw/<domain>/source.json (with a
fingerprint of their files, so DVC notices when a real dataset changes)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipeline.errors import PipelineError


def folder_fingerprint(folder: Path) -> str:
    """Names, sizes and mtimes of every file: cheap, and changes when the dataset does."""
    if not folder.is_dir():
        raise PipelineError(f"{folder}: dataset folder does not exist (check <domain>.simulate in params.yaml)")
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(folder)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def point_at_folders(raw_root: Path, synthetic_dir: str, real_dir: str) -> dict:
    src = {name: {"path": str(Path(d).resolve()), "fingerprint": folder_fingerprint(Path(d))}
           for name, d in (("synthetic", synthetic_dir), ("real", real_dir))}
    (Path(raw_root) / "source.json").write_text(json.dumps(src, indent=2, sort_keys=True) + "\n")
    return src


def raw_dirs(raw_root: Path) -> tuple[Path, Path]:
    """(synthetic, real) input folders of a domain's raw root."""
    src = Path(raw_root) / "source.json"
    if src.exists():
        s = json.loads(src.read_text())
        return Path(s["synthetic"]["path"]), Path(s["real"]["path"])
    return Path(raw_root) / "synthetic", Path(raw_root) / "real"
