"""How much of the eye refiner's appearance gap is tone? `gap_closed` (pipeline/simgan/stats.py) of
the refined eye crops against real_train, read twice: on the crops as stored, and with every set
histogram-equalized per image, as MPIIGaze's normalized patches are and as the gaze net equalizes
its own inputs (pipeline/nets/gaze.py: equalize_hist).

The stored real crops are equalized and the synthetic ones are not, so on the raw crops the gradient
and high-frequency statistics mostly measure contrast: a refiner that stretched its output's grey
levels would close them without drawing any detail. Equalized, every set has the same flat
histogram, and what is left is detail: edges, noise, blur. Two more lines read, against the raw
synthetic crops, the refined crops equalized (a refine stage that wrote its output equalized) and
the synthetic crops equalized (that fixed map alone, no R).

    python -m bench.appearance_gap                       # the default's refined split
    python -m bench.appearance_gap --refined DIR --n 1000
    python -m bench.appearance_gap --reference MPIIGAZE_DIR   # also a folder of real crops' statistics

Reads shards only; prints one JSON line per view. No files, no MLflow.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

import torch

from bench.real_reference import load_set
from pipeline import paths
from pipeline.nets.gaze import equalize_hist
from pipeline.simgan.data import probe_images
from pipeline.simgan.stats import appearance, gap_closed

SETS = ("synthetic", "refined", "real")


def view(sets: dict[str, torch.Tensor], transform: Callable[[torch.Tensor], torch.Tensor] = lambda x: x,
         refined_transform: Callable[[torch.Tensor], torch.Tensor] | None = None) -> dict:
    """Appearance statistics of the synthetic, refined and real (N, 1, H, W) [-1, 1] crops after
    `transform` (the refined ones after `refined_transform` when given), and the refined set's gap_closed."""
    stats = {name: appearance((refined_transform or transform)(x) if name == "refined" else transform(x))
             for name, x in sets.items()}
    closed = gap_closed(stats["synthetic"], stats["refined"], stats["real"])
    return {"stats": {k: {s: round(v, 4) for s, v in st.items()} for k, st in stats.items()},
            "gap_closed": {k: round(v, 2) for k, v in closed.items()}}


def views(sets: dict[str, torch.Tensor]) -> dict[str, dict]:
    return {"raw": view(sets), "equalized": view(sets, equalize_hist),
            "refined_equalized_vs_raw": view(sets, refined_transform=equalize_hist),
            "synthetic_equalized_vs_raw": view({**sets, "refined": sets["synthetic"]}, refined_transform=equalize_hist)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synthetic", type=Path, default=paths.shards("eyes", "synthetic"))
    ap.add_argument("--refined", type=Path, default=paths.shards("eyes", "refined"))
    ap.add_argument("--real", type=Path, default=paths.shards("eyes", "real_train"))
    ap.add_argument("--n", type=int, default=1000, help="crops a set, spread over its shards")
    ap.add_argument("--reference", type=Path, help="a folder of real eye crops (PNG/JPG, e.g. MPIIGaze patches): "
                                                   "their statistics raw and equalized, beside the views")
    args = ap.parse_args()
    sets = {name: probe_images(getattr(args, name), "eyes", args.n) for name in SETS}
    for name, result in views(sets).items():
        print(json.dumps({"view": name, **result}))
    if args.reference:
        crops = torch.from_numpy(load_set(args.reference, args.n, seed=0)).float()[:, None] / 127.5 - 1
        print(json.dumps({"reference": str(args.reference), "n": len(crops),
                          **{k: {s: round(v, 4) for s, v in appearance(f(crops)).items()}
                             for k, f in (("raw", lambda x: x), ("equalized", equalize_hist))}}))


if __name__ == "__main__":
    main()
