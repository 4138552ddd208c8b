"""Small real_val + refined splits for trying the study without running the pipeline (tests,
`screenshots --demo`): written with pipeline.shards like the stages write theirs."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from pipeline.shards import Sample, ShardWriter

SPLITS = {"real": "real_val", "synthetic": "refined"}


CUBE_MM = 300

def eye_image(rng: np.random.Generator) -> np.ndarray:
    """A dark iris disc and pupil on a shaded background, with sensor noise."""
    yy, xx = np.mgrid[:35, :55]
    cx, cy = rng.uniform(18, 37), rng.uniform(13, 22)
    r2 = (xx - cx) ** 2 + (yy - cy) ** 2
    img = 170 + 30 * np.cos(yy / 35 * np.pi) - 90 * (r2 < 70) - 40 * (r2 < 12) + rng.normal(0, 6, r2.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def hand_image(rng: np.random.Generator, center_d: float) -> np.ndarray:
    """A palm-and-fingers depth blob (mm); background at the crop's far plane, as ingest writes it."""
    yy, xx = np.mgrid[:64, :64]
    cx, cy = rng.uniform(26, 38, 2)
    palm = ((xx - cx) / 14) ** 2 + ((yy - cy) / 12) ** 2 < 1
    fingers = (np.abs(xx - cx - 8 * np.round((xx - cx) / 8)) < 2.5) & (yy < cy) & (yy > cy - 26) & (np.abs(xx - cx) < 14)
    depth = center_d + 40 * ((xx - cx) / 32) + rng.normal(0, 3, xx.shape)
    far = math.ceil(center_d + CUBE_MM / 2.0)  # pipeline.crops.hands.far_value of this crop
    return np.where(palm | fingers, depth, far).astype(np.uint16)


def meta_of(domain: str, key: str, split: str, center_d: float, run_id: str) -> dict:
    crop = ({"center": [70.0, 42.0], "box": [140, 84], "out": [55, 35], "flip": False, "src_size": [640, 480]}
            if domain == "eyes" else {"center_uvd": [320.0, 240.0, center_d], "cube_mm": CUBE_MM, "size": 64,
                                      "fx": 588.03, "fy": 587.07, "cx": 320.0, "cy": 240.0, "src_size": [640, 480]})
    meta = {"id": key, "domain": domain, "split": split, "source": f"demo#{key}", "crop": crop}
    if split == "refined":
        meta["refined_by"] = {"refiner_sha256": "0" * 64, "mlflow_run_id": run_id}
    return meta


def write_demo_shards(root: str | Path, domain: str = "eyes", n: int = 24, run_id: str = "demo-run",
                      seed: int = 0) -> dict[str, Path]:
    """root/<domain>/{real_val,refined} with `n` images each; returns label -> split dir."""
    rng = np.random.default_rng(seed)
    dirs = {}
    for label, split in SPLITS.items():
        dirs[label] = Path(root) / domain / split
        with ShardWriter(dirs[label], shard_size=max(1, n // 2)) as w:
            for i in range(n):
                key, center_d = f"{split}-{i:05d}", float(rng.uniform(500, 900))
                image = eye_image(rng) if domain == "eyes" else hand_image(rng, center_d)
                w.write(Sample(key, image, meta_of(domain, key, split, center_d, run_id)))
    return dirs
