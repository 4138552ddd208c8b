"""report: reports/report.md with the results table (ours beside the paper's), realism figures,
sample grids (synthetic | refined | real) and training curves, from the evaluate and realism outputs."""
from __future__ import annotations

from pathlib import Path

from pipeline.report.build import build_report
from pipeline.stagecli import stage_main, stage_parser


def run(args, params) -> None:
    path = build_report(Path("."), Path("reports"))
    print(f"wrote {path}")


if __name__ == "__main__":
    stage_main(__doc__, run, stage_parser(__doc__, domain=False))
