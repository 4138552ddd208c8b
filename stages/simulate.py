"""simulate@<domain>: write the embedded default's raw data in the real datasets' formats.

With `<domain>.simulate.source: folders` nothing is generated: the stage records where the
real dataset folders are (and a fingerprint of their files, so DVC notices when they change)
and ingest reads them from there with the same readers. Either way it writes a preview grid
to reports/figures/simulate-<domain>.png.
"""
from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

from pipeline.raw_source import point_at_folders
from pipeline.stagecli import stage_main

RAW = Path("data/raw")
FIGURES = Path("reports/figures")


def run(args, params) -> None:
    domain, p = args.domain, params.domain(args.domain).simulate
    sim = importlib.import_module(f"pipeline.simulate.{domain}")
    out = RAW / domain
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if p.source == "folders":
        counts = point_at_folders(out, p.synthetic_dir, p.real_dir)
    else:
        counts = sim.simulate(out, p, params.seed)
    FIGURES.mkdir(parents=True, exist_ok=True)
    sim.preview(out, FIGURES / f"simulate-{domain}.png", params)
    print(json.dumps({domain: counts}))


if __name__ == "__main__":
    stage_main(__doc__, run)
