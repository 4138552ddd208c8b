"""simulate@<domain>: write the embedded default's raw data in the real datasets' formats.

With `<domain>.simulate.source: folders` nothing is generated: the stage records where the
real dataset folders are (and a fingerprint of their files, so DVC notices when they change)
and ingest reads them from there with the same readers.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.stagecli import stage_main

RAW = Path("data/raw")
FIGURES = Path("reports/figures")


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


def point_at_folders(out: Path, synthetic_dir: str, real_dir: str) -> dict:
    src = {name: {"path": str(Path(d).resolve()), "fingerprint": folder_fingerprint(Path(d))}
           for name, d in (("synthetic", synthetic_dir), ("real", real_dir))}
    (out / "source.json").write_text(json.dumps(src, indent=2, sort_keys=True) + "\n")
    return src


def run(args, params) -> None:
    domain, p = args.domain, params.domain(args.domain).simulate
    out = RAW / domain
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    FIGURES.mkdir(parents=True, exist_ok=True)
    if domain == "eyes":
        from pipeline.simulate import eyes as sim
    else:
        from pipeline.simulate import hands as sim
    if p.source == "folders":
        point_at_folders(out, p.synthetic_dir, p.real_dir)
        counts = {"source": "folders"}
    else:
        counts = sim.simulate(out, p, params.seed)
    sim.preview(out, FIGURES / f"simulate-{domain}.png", params)
    print(json.dumps({domain: counts}))


if __name__ == "__main__":
    stage_main(__doc__, run)
