"""simulate@<domain>: write the embedded default's raw data in the real datasets' formats.

With `<domain>.simulate.source: folders` nothing is generated: the stage checks the dataset
folders named in params.yaml (an empty, missing or overlapping path is an error naming the key),
records where they are (and a fingerprint of their files, so DVC notices when they change) and
ingest reads them from there with the same readers. Either way it writes a preview grid to
reports/figures/simulate-<domain>.png.

The stage writes, and so deletes, only data/raw/<domain>/generated/: a dataset anywhere else
(data/raw/<domain>/mpiigaze/ included) is never touched.
"""
from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

from pipeline.raw_source import check_folders, generated_dir, point_at_folders
from pipeline.stagecli import stage_main

FIGURES = Path("reports/figures")


def run(args, params) -> None:
    domain, p = args.domain, params.domain(args.domain).simulate
    sim = importlib.import_module(f"pipeline.simulate.{domain}")
    folders = check_folders(domain, p) if p.source == "folders" else None  # before anything is removed
    out = generated_dir(domain)
    shutil.rmtree(out, ignore_errors=True)  # our own output only (check_folders keeps datasets out of it)
    out.mkdir(parents=True)
    if folders is not None:
        counts = point_at_folders(out, folders)
    else:
        counts = sim.simulate(out, p, params.seed)
    FIGURES.mkdir(parents=True, exist_ok=True)
    sim.preview(out, FIGURES / f"simulate-{domain}.png", params)
    print(json.dumps({domain: counts}))


if __name__ == "__main__":
    stage_main(__doc__, run)
