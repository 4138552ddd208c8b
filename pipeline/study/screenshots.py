"""Screenshots of the study for the report: a scripted participant answers a short session in
headless Chromium (random answers), then the trial page and the results page are saved.

    python -m pipeline.study.screenshots                # the project's data/shards/eyes/{real_val,refined}
    python -m pipeline.study.screenshots --demo         # demo shards, no pipeline run needed

Answers go to a temporary database: the real study's .state/study/<domain>.db is not touched.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from pipeline.params import load_params
from pipeline.study import LABELS
from pipeline.study.browser import answer, chromium_page, start_session, trial_id
from pipeline.study.config import load_study
from pipeline.study.demo import write_demo_shards
from pipeline.study.server import create_app, running


def take_screenshots(cfg, out: Path, seed: int = 0) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    trial_png, results_png = out / "study-trial.png", out / "study-results.png"
    rng = np.random.default_rng(seed)
    with running(create_app(cfg)) as url, chromium_page(width=760, height=620) as page:
        start_session(page, url, "scripted-demo")
        for i in range(cfg.n_trials):
            trial_id(page)  # waits for the image
            if i == min(2, cfg.n_trials - 1):
                page.screenshot(path=trial_png)
            answer(page, LABELS[int(rng.integers(2))])
        page.goto(f"{url}/results")
        page.screenshot(path=results_png, full_page=True)
    return trial_png, results_png


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--domain", default="eyes", choices=["eyes", "hands"])
    ap.add_argument("--demo", action="store_true", help="use generated demo shards, not data/shards")
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("reports/figures"))
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        dirs = write_demo_shards(tmp, args.domain) if args.demo else {}
        cfg = load_study(args.domain, load_params(args.params), dirs.get("real"), dirs.get("synthetic"),
                         Path(tmp) / "screenshots.db", args.trials)
        for path in take_screenshots(cfg, args.out):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
