"""What every stage CLI shares: `<domain> [--params PATH]`, and user errors as one clear line.

A stage script is `stage_main(__doc__, run)` over a pure `run(domain, params, args)`; bugs
still raise with a traceback, but a PipelineError (bad input, failed check) prints its
message and exits 1 so `dvc repro` shows what is wrong without noise.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable

from pipeline.errors import PipelineError
from pipeline.params import DOMAINS, ParamsError, Params, load_params


def stage_parser(doc: str, domain: bool = True) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if domain:
        ap.add_argument("domain", choices=DOMAINS, help="which domain to run")
    ap.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    return ap


def stage_main(doc: str, run: Callable[[argparse.Namespace, Params], object],
               parser: argparse.ArgumentParser | None = None, argv: list[str] | None = None) -> None:
    args = (parser or stage_parser(doc)).parse_args(argv)
    try:
        run(args, load_params(args.params))
    except (PipelineError, ParamsError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
