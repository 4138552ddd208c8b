"""ingest@eyes: raw eye datasets -> data/shards/eyes/{synthetic,real_train,real_holdout,real_val,real_test}/.

The synthetic side is a UnityEyes folder or a Kaggle gaze.h5; the real side an MPIIGaze root,
a Kaggle real_gaze.h5 or a plain folder of eye crops. Real participants listed in
`eyes.ingest.test_participants` form the labelled real_test split, those in `val_participants`
the labelled real_val split; the others' frames form real_train and (a stable
`ingest.holdout_fraction` of them) real_holdout, whose shards carry NO labels: their labels go
to data/labels/eyes/<split>.parquet (keyed by sample key) for the oracle estimator only, where
no refiner stage reads them. Splits: pipeline/ingest/splits.py.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path


from pipeline.formats import folder, kaggle_h5, mpiigaze, unityeyes
from pipeline.ingest.common import ingest_domain, interleave
from pipeline.ingest.splits import SPLITS, train_or_holdout, unit_fraction
from pipeline.params import Params, ParamsError, to_dict
from pipeline.shards import Reject


UNLABELLED_REAL = ("folder", "h5")  # real formats without labels: their real_test can test nothing


def may_be_empty(real_format: str) -> tuple[str, ...]:
    """Splits ingest may leave empty besides OPTIONAL: an unlabelled real source's real_test (few
    groups can all hash past test_fraction, and test_fraction 0 asks for none)."""
    return ("real_test",) if real_format in UNLABELLED_REAL else ()


def detect_format(path: Path, side: str) -> str:
    """unityeyes | h5 | mpiigaze | folder, from what is at `path`."""
    path = Path(path)
    if path.is_file() and path.suffix == ".h5":
        return "h5"
    if side == "synthetic":
        return "unityeyes"
    return "mpiigaze" if any(mpiigaze.normalized_dir(path).glob("p*/*.mat")) else "folder"


def list_items(path: Path, fmt: str) -> list:
    path = Path(path)
    if fmt == "h5":
        return kaggle_h5.list_slices(path)
    if not path.is_dir():
        return [("missing", str(path))]
    items = {"unityeyes": unityeyes.list_renders, "mpiigaze": mpiigaze.list_day_files,
             "folder": folder.list_images}[fmt](path)
    return items or [("empty", str(path))]


def read_item(item, root: str, fmt: str, head_pose_max_deg: float, out_wh) -> list:
    """One item of any eye format -> its Samples and Rejects (split not yet set)."""
    if isinstance(item, tuple) and item[0] in ("empty", "missing"):
        what = "empty folder: no input files" if item[0] == "empty" else "input folder does not exist"
        return [Reject(item[1], what)]
    if fmt == "unityeyes":
        return unityeyes.read_item(item, root, head_pose_max_deg, out_wh)
    if fmt == "mpiigaze":
        return mpiigaze.read_mat(item, root, out_wh)
    if fmt == "h5":
        return kaggle_h5.read_slice(item, root, out_wh)
    return folder.read_image(item, root, out_wh)


def split_group(source: str, fmt: str) -> str:
    """What must stay in one split: an MPIIGaze participant, a plain folder's first sub-folder (a
    person or a session), or, where nothing groups the images (one h5 file, a flat folder), the image."""
    path = source.split("#")[0]
    parts = Path(path).parts
    if fmt == "mpiigaze":
        return parts[-2] if len(parts) >= 2 else path
    if fmt == "folder":
        return parts[0] if len(parts) >= 2 else path
    return source  # h5: "real_gaze.h5#image/img12", each image on its own


def real_split(source: str, test_participants: tuple[str, ...], test_fraction: float, fmt: str,
               val_participants: tuple[str, ...] = (), val_fraction: float = 0.0,
               holdout_fraction: float = 0.0) -> str:
    """Leave-participants-out for MPIIGaze (real_test, real_val); else a stable hash of the source's
    group, so a split never cuts a group (and an h5 file is split per image, not all in one split);
    then a per-frame hash cuts real_train's groups into real_train / real_holdout."""
    group = split_group(source, fmt)
    if fmt == "mpiigaze":
        split = "real_test" if group in test_participants else "real_val" if group in val_participants else ""
    else:
        h = unit_fraction(group)
        split = "real_test" if h < test_fraction else "real_val" if h < test_fraction + val_fraction else ""
    return split or train_or_holdout(source, holdout_fraction)


FLAT_FOLDER_WARNING = ("flat folder: no sub-folders, so images are split one by one and frames of one person or "
                       "session may land in both real_train and real_test; put each person's (or session's) "
                       "images in their own sub-folder")


def real_warnings(real_dir: Path, fmt: str) -> list[str]:
    """dataset.json warnings about how the real side can be split."""
    if fmt == "folder" and Path(real_dir).is_dir() and not any(p.is_dir() for p in Path(real_dir).iterdir()):
        return [FLAT_FOLDER_WARNING]
    return []


def load_synthetic(item, root: str, fmt: str, head_pose_max_deg: float, out_wh) -> list:
    return [_with_split(r, "synthetic") for r in read_item(item, root, fmt, head_pose_max_deg, out_wh)]


def load_real(item, root: str, fmt: str, test_participants: tuple[str, ...], test_fraction: float, out_wh,
              val_participants: tuple[str, ...] = (), val_fraction: float = 0.0, holdout_fraction: float = 0.0) -> list:
    return [_with_split(r, real_split(_source(r), test_participants, test_fraction, fmt,
                                      val_participants, val_fraction, holdout_fraction))
            for r in read_item(item, root, fmt, 0.0, out_wh)]


def _source(rec) -> str:
    return rec.source if isinstance(rec, Reject) else rec.meta["source"]


def _with_split(rec, split: str):
    if isinstance(rec, Reject):
        rec.split = split
    else:
        rec.meta["split"] = split
    return rec


def load_tagged(tagged, synthetic, real) -> list:
    """Items of both sides go through one parallel pass: ("synthetic" | "real", item)."""
    side, item = tagged
    return (synthetic if side == "synthetic" else real)(item)


def plan(params: Params, synthetic_dir: Path, real_dir: Path) -> tuple[list, partial, dict]:
    """(items, picklable load(item) -> [Sample | Reject] with splits set, formats) for both sides."""
    ing = params.eyes.ingest
    out_wh = (ing.crop_w, ing.crop_h)
    formats = {"synthetic": detect_format(synthetic_dir, "synthetic"), "real": detect_format(real_dir, "real")}
    roots = {side: str(Path(d).parent if formats[side] == "h5" else d)  # sources: "real_gaze.h5#image/img7"
             for side, d in (("synthetic", synthetic_dir), ("real", real_dir))}
    load = partial(load_tagged,
                   synthetic=partial(load_synthetic, root=roots["synthetic"], fmt=formats["synthetic"],
                                     head_pose_max_deg=ing.head_pose_max_deg, out_wh=out_wh),
                   real=partial(load_real, root=roots["real"], fmt=formats["real"],
                                test_participants=tuple(ing.test_participants),
                                test_fraction=ing.test_fraction, out_wh=out_wh,
                                val_participants=tuple(ing.val_participants), val_fraction=ing.val_fraction,
                                holdout_fraction=params.ingest.holdout_fraction))
    real_items = list_items(real_dir, formats["real"])
    if formats["real"] == "mpiigaze":
        check_participants(real_items, {"test_participants": ing.test_participants,
                                        "val_participants": ing.val_participants}, real_dir)
    items = interleave([("synthetic", it) for it in list_items(synthetic_dir, formats["synthetic"])],
                       [("real", it) for it in real_items])
    return items, load, formats


def check_participants(day_files: list, chosen: dict[str, list[str]], real_dir: Path) -> None:
    """A participant id in params that matches no folder would silently leave its split short
    (or empty): name it, and the ids the dataset has."""
    present = {Path(f).parent.name for f in day_files if isinstance(f, str)}
    for key, ids in chosen.items():
        unknown = sorted(set(ids) - present)
        if unknown:
            raise ParamsError(f"eyes.ingest.{key}: {', '.join(unknown)} match no participant folder in "
                              f"{real_dir} (it has {', '.join(sorted(present)) or 'none'})")


def ingest_eyes(params: Params, synthetic_dir: Path, real_dir: Path, out_root: Path) -> dict:
    """Write the eye splits under out_root/shards/eyes and the labels kept apart; returns counts."""
    items, load, formats = plan(params, synthetic_dir, real_dir)
    info = {"domain": "eyes", "params": to_dict(params.eyes.ingest),
            "synthetic": {"path": str(synthetic_dir), "format": formats["synthetic"]},
            "real": {"path": str(real_dir), "format": formats["real"]},
            "warnings": real_warnings(real_dir, formats["real"])}
    return {**ingest_domain("eyes", items, load, out_root, params, info, may_be_empty=may_be_empty(formats["real"])),
            "formats": formats}

ingest = ingest_eyes  # the name stages/ingest.py calls for every domain
