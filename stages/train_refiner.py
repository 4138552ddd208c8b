"""train_refiner@<domain>: train the SimGAN refiner on the domain's synthetic + unlabelled real shards.

    python -m stages.train_refiner eyes [--params params.yaml]
    torchrun --nproc-per-node 2 -m stages.train_refiner eyes      # data-parallel (gloo on CPU, nccl on GPU)

Writes models/refiner-<domain>.pt, metrics/train_refiner-<domain>.json and
reports/figures/refiner-<domain>-grid.png; logs the run to MLflow; resumes from
checkpoints/train_refiner-<domain>.pt after a kill.
"""
from __future__ import annotations

import argparse
import sys

from pipeline.errors import PipelineError
from pipeline.params import DOMAINS, ParamsError, load_params
from pipeline.simgan.run import Outputs, train_refiner


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m stages.train_refiner", description=__doc__.split("\n\n")[0])
    ap.add_argument("domain", choices=DOMAINS)
    ap.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    ap.add_argument("--data-root", default="data", help="folder holding shards/<domain>/{synthetic,real_train}")
    ap.add_argument("--out-root", default=".", help="folder under which models/, metrics/, reports/ are written")
    args = ap.parse_args(argv)
    try:
        params = load_params(args.params)
        train_refiner(params, args.domain, data_root=args.data_root,
                      outputs=Outputs.for_domain(args.domain, args.out_root))
    except (PipelineError, ParamsError) as e:
        print(f"train_refiner@{args.domain}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
