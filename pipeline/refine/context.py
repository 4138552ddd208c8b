"""Refine with context, then cut again (hands): a context crop through R -> the final crop.

ingest@hands writes each synthetic frame twice: the final crop (split `synthetic`) and a context
crop (`synthetic_context`: `context_margin` x the cube around the same centre, at the same pixel
pitch), whose meta records the final crop's recipe under "context" (cube, size, the depth range
and blob size that centre a frame). refine@hands refines the context crop, centres a new final
crop on the refined depth exactly as real frames are centred (crops.hands.recrop: holes and
frayed edges the refiner adds move it as the sensor's do), and moves the labels frame-wise
through both recorded crops. The annotation check compares the refined final crop with the
unrefined context crop cut by that same final crop: what R changed under the labels.

R sees the context crop on the final crop's depth scale (centre depth +- cube/2 -> [-1, 1]),
the scale it was trained on. R's tanh never quite reaches the background's +1: outputs above
BACKGROUND are background, or a wall of "depth" just behind the hand would join the hand's blob
and the crop would be centred on the wall.
"""
from __future__ import annotations

import numpy as np

from pipeline.crops import hands as crops

BACKGROUND = 0.9  # R outputs above this (beyond centre + 0.9 x cube/2: 135 mm for 300) are background


def is_context(meta: dict) -> bool:
    return "context" in meta


def _on_final_scale(meta: dict) -> dict:
    return {**meta, "crop": {**meta["crop"], "cube_mm": meta["context"]["cube_mm"]}}


def to_model(image: np.ndarray, meta: dict) -> np.ndarray:
    """uint16 context crop -> [-1, 1] on the final crop's depth scale."""
    return crops.normalize(image, _on_final_scale(meta))


def from_model(x: np.ndarray, meta: dict) -> np.ndarray:
    """R's output -> uint16 context crop mm; background (+1) -> the context crop's far plane."""
    d = crops.denormalize(x, _on_final_scale(meta))
    d[np.asarray(x) > BACKGROUND] = crops.far_value(meta["crop"])
    return d


def final_crop(refined: np.ndarray, meta: dict) -> dict:
    """The final crop (frame coordinates) centred on the refined context crop's depth; the
    synthetic split's own crop (recorded at ingest) when no hand blob is left to centre on."""
    ctx = meta["context"]
    cut = crops.recrop(refined, meta["crop"], ctx["cube_mm"], ctx["size"], ctx["min_depth_mm"],
                       ctx["max_depth_mm"], ctx["min_hand_pixels"])
    return ctx["synthetic_crop"] if cut is None else cut[1]


def final_meta(meta: dict, final: dict, refined_by: dict) -> dict:
    """The refined sample's meta: the synthetic sample's, with the final crop and the labels moved
    into it (frame joints through the context crop's inverse); the context crop kept for the record."""
    out = {k: v for k, v in meta.items() if k != "context"}
    out.update(split="synthetic", crop=final, context_crop=meta["crop"], refined_by=refined_by)
    if "labels" in meta:
        frame = crops.uncrop_uvd(np.array(meta["labels"]["joints_uvd"], np.float64), meta["crop"])
        out["labels"] = {**meta["labels"], "joints_uvd": np.round(crops.crop_uvd(frame, final), 3).tolist()}
    return out


def refine_context(refined: np.ndarray, source: np.ndarray, meta: dict, refined_by: dict
                   ) -> tuple[np.ndarray, np.ndarray, dict]:
    """(refined final crop, the unrefined context cut by the same crop, the refined meta)."""
    final = final_crop(refined, meta)
    return (crops.cut_context(refined, meta["crop"], final), crops.cut_context(source, meta["crop"], final),
            final_meta(meta, final, refined_by))


def matches(source_meta: dict, refined_meta: dict, refined_by: dict) -> bool:
    """Whether an earlier run's refined meta is this context sample's (its final crop is R's to choose)."""
    return refined_meta == final_meta(source_meta, refined_meta.get("crop", {}), refined_by)
