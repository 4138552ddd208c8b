"""The refined dataset's card: README.md and sample-grid.png beside its dataset.json.

Everything on the card comes from dataset.json's info (counts, refiner version, params, input
data versions, annotation check), so the card is as reproducible as the data: the same run
writes the same bytes.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from pipeline.crops import normalize
from pipeline.files import atomic_write, json_text, write_png
from pipeline.images import tile, to_uint8
from pipeline.shards import iter_shard, list_shards


def display(domain: str, samples) -> np.ndarray:
    """(N, H, W) uint8 views of shard samples (hands: depth inside the crop cube)."""
    x = np.stack([normalize(domain, s.image, s.meta) for s in samples])
    return to_uint8(x)


def sample_grid(domain: str, synthetic_dir: Path, refined_dir: Path, n: int, scale: int = 3,
                gap: int = 2) -> np.ndarray:
    """Rows synthetic / refined / |difference| (stretched to its max) of the first `n` samples."""
    syn = list(itertools.islice(iter_shard(list_shards(synthetic_dir)[0]), n))
    ref = list(itertools.islice(iter_shard(list_shards(refined_dir)[0]), n))
    a, b = display(domain, syn).astype(np.int16), display(domain, ref).astype(np.int16)
    diff = np.abs(b - a)
    diff = (diff * (255 / max(int(diff.max()), 1))).astype(np.int16)
    tiles = np.stack([a, b, diff]).astype(np.uint8)  # (3, n, h, w)
    return tile(tiles, gap, scale)


def check_cell(check: dict) -> str:
    if "not_measured" in check:
        return f"not measured: {check['not_measured']}"
    return (f"{check['measure']}: mean {check['mean']} {check['unit']}, p95 {check['p95']}, max {check['max']} over "
            f"{check['checked']} samples (threshold {check['threshold']}); {check['lost_measure']} {check['lost']} "
            f"(threshold {check['max_lost']})")


def card_text(info: dict, counts: dict, shards: int) -> str:
    check, refiner, syn = info["annotation_check"], info["inputs"]["refiner"], info["inputs"]["synthetic"]
    params = json_text(info["params"]).rstrip()
    return f"""# Refined {info['domain']} dataset

SimGAN-refined synthetic {info['domain']} samples: each sample is the synthetic sample's
`meta.json` (labels included) unchanged plus `refined_by`, with the refined image
({'8-bit grey' if info['domain'] == 'eyes' else '16-bit depth in mm'} PNG).

| | |
|---|---|
| samples | {counts['written']} in {shards} shard(s) |
| refiner sha256 | `{refiner['sha256']}` |
| refiner steps | {refiner['steps']} |
| synthetic input | `{syn['path']}` version `{syn['data_version']}` |
| annotation check | {check_cell(check)} |

![synthetic / refined / |difference|](sample-grid.png)

Rows: synthetic, refined, |refined - synthetic| stretched to its maximum.

## Params

```json
{params}
```

## Use

```python
from pipeline.api import open_refined
for image, labels in open_refined("{info['domain']}", repo="<git url of this project>", rev="<tag>"):
    ...
```
or `dvc import <git url> data/shards/{info['domain']}/refined --rev <tag>`.
"""


def write_card(domain: str, synthetic_dir: Path, refined_dir: Path, info: dict, counts: dict,
               shards: int, grid_samples: int) -> None:
    write_png(sample_grid(domain, synthetic_dir, refined_dir, grid_samples), refined_dir / "sample-grid.png")
    atomic_write(refined_dir / "README.md", card_text(info, counts, shards))
