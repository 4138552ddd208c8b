"""`simgan data check <domain>`: a dry run of ingest over the configured inputs, before an hour of it.

The same plan and readers as ingest@<domain> (so what it says is what ingest would do), nothing
written. Per split: the detected format, the records found, what would be written, rejects by
reason, a few sample keys and the label ranges (gaze pitch/yaw in degrees, joint depth in mm);
`failures` lists what would make ingest fail (the max_reject_fraction rule of
pipeline/ingest/common.py, or an empty split that must not be).
"""
from __future__ import annotations

import importlib
import multiprocessing as mp
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.ingest.common import FILTERED, _init_worker
from pipeline.ingest.splits import OPTIONAL, SPLITS
from pipeline.params import Params
from pipeline.raw_source import check_folders, generated_dir, raw_dirs

N_KEYS = 3


@dataclass
class SplitCheck:
    split: str
    source: str = ""
    format: str = ""
    files: int = 0          # files under the split's input folder (an h5 file: 1)
    found: int = 0          # records read (samples + rejects), what ingest counts as "in"
    written: int = 0        # samples ingest would write
    filtered: int = 0       # dropped on purpose by a param ("filtered: ..."), not bad input
    reasons: Counter = field(default_factory=Counter)
    keys: list = field(default_factory=list)
    labelled: int = 0
    ranges: dict = field(default_factory=dict)   # label name -> [min, max]

    @property
    def rejected(self) -> int:
        return sum(self.reasons.values()) + self.filtered


def input_dirs(domain: str, params: Params, repo: Path = Path(".")) -> tuple[Path, Path, str]:
    """(synthetic, real, where from): the dataset folders params.yaml names (checked: ParamsError
    naming the key), or the embedded default's generated folders."""
    sim = params.domain(domain).simulate
    if sim.source == "folders":
        folders = check_folders(domain, sim, repo)
        return folders["synthetic_dir"], folders["real_dir"], "params.yaml (source: folders)"
    syn, real = raw_dirs(generated_dir(domain, repo))
    return syn, real, "the embedded default (source: generate; written by simulate@" + domain + ")"


def _label_values(domain: str, labels: dict) -> dict[str, list[float]]:
    if domain == "eyes":
        g = labels.get("gaze") or {}
        return {"gaze pitch (deg)": [float(np.degrees(g["pitch"]))], "gaze yaw (deg)": [float(np.degrees(g["yaw"]))]} \
            if "pitch" in g else {}
    xyz = labels.get("joints_xyz")
    return {"joint depth (mm)": [float(p[2]) for p in xyz]} if xyz else {}


def _loaded(load, items, workers: int):
    if workers <= 1 or len(items) < 2:
        yield from map(load, items)
        return
    with mp.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
        yield from pool.imap(load, items, chunksize=max(1, min(64, len(items) // (workers * 8))))


def check_domain(domain: str, params: Params, synthetic_dir: Path, real_dir: Path) -> dict[str, SplitCheck]:
    """Read every input record as ingest would, write nothing; per-split findings."""
    from pipeline.shards import Reject

    mod = importlib.import_module(f"pipeline.ingest.{domain}")
    checks = {s: SplitCheck(s) for s in SPLITS}
    if domain == "eyes":
        items, load, formats = mod.plan(params, synthetic_dir, real_dir)
        for split in SPLITS:
            side = "synthetic" if split.startswith("synthetic") else "real"
            checks[split].format = formats[side]
            checks[split].source = str(synthetic_dir if side == "synthetic" else real_dir)
    else:
        items, load = mod.plan(params, synthetic_dir, real_dir)
        for split in SPLITS:
            checks[split].format = "nyu"
            checks[split].source = str(synthetic_dir if split.startswith("synthetic") else
                                       Path(real_dir) / ("test" if split == "real_test" else "train"))
    for c in checks.values():
        c.files = files_found(Path(c.source))
    ranges: dict[str, dict[str, list[float]]] = {s: {} for s in SPLITS}
    for recs in _loaded(load, items, params.ingest.workers):
        for rec in recs:
            if isinstance(rec, Reject):
                c = checks[rec.split]
                c.found += 1
                if rec.reason.startswith(FILTERED):
                    c.filtered += 1
                else:
                    c.reasons[rec.reason] += 1
                continue
            c = checks[rec.meta["split"]]
            c.found += 1
            c.written += 1
            if len(c.keys) < N_KEYS:
                c.keys.append(rec.key)
            values = _label_values(domain, rec.meta.get("labels") or {})
            c.labelled += bool(values)
            for name, v in values.items():
                lo, hi = ranges[c.split].get(name, [np.inf, -np.inf])
                ranges[c.split][name] = [min(lo, min(v)), max(hi, max(v))]
    for split, r in ranges.items():
        checks[split].ranges = r
    return checks


def files_found(path: Path) -> int:
    if path.is_file():
        return 1
    return sum(1 for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def may_be_empty(domain: str, real_dir: Path) -> tuple[str, ...]:
    """Splits the dataset may lack (unlabelled real data: hands without a test/ folder, eye crops or real_gaze.h5)."""
    if domain == "eyes":
        from pipeline.ingest import eyes
        return OPTIONAL + eyes.may_be_empty(eyes.detect_format(real_dir, "real"))
    if domain == "hands":
        from pipeline.ingest.hands import has_test_folder
        return OPTIONAL + (() if has_test_folder(real_dir) else ("real_test",))
    return OPTIONAL


def failures(checks: dict[str, SplitCheck], max_fraction: float, optional: tuple = ()) -> list[str]:
    """What would make ingest fail, one line per split (the rule of check_all_rejects)."""
    out = []
    for s, c in checks.items():
        bad, counted = sum(c.reasons.values()), c.found - c.filtered
        if c.found == 0:
            if s not in optional:
                out.append(f"{s}: no input records at all (empty or missing input folder?)")
        elif counted and bad / counted > max_fraction:
            out.append(f"{s}: would reject {bad}/{counted} records ({bad / counted:.1%} > max_reject_fraction "
                       f"{max_fraction:.1%})")
    return out


def format_report(domain: str, checks: dict[str, SplitCheck], where: str, problems: list[str],
                  optional: tuple = ()) -> str:
    lines = [f"simgan data check {domain}: inputs from {where}; nothing written", ""]
    for s, c in checks.items():
        share = f"{c.rejected / c.found:.1%}" if c.found else "-"
        lines.append(f"{s}  [{c.format}]  {c.source}")
        if not c.found and s in optional:
            lines += ["  no records: the dataset has no such split (unlabelled real data: estimator and evaluate "
                      "will record that they skipped)" if s == "real_test" else
                      "  no records (none asked for by the params, or no labels to choose them by)", ""]
            continue
        lines.append(f"  files {c.files}, records found {c.found}, would write {c.written}, rejected {c.rejected} ({share})"
                     + (f", of which filtered on purpose {c.filtered}" if c.filtered else ""))
        for reason, n in c.reasons.most_common(5):
            lines.append(f"  reject x{n}: {reason}")
        if len(c.reasons) > 5:
            lines.append(f"  ... {len(c.reasons) - 5} more reasons")
        lines.append(f"  sample keys: {', '.join(c.keys) or '-'}")
        if c.ranges:
            lines.append(f"  labels on {c.labelled}/{c.written}: "
                         + "; ".join(f"{k} {lo:.1f} .. {hi:.1f}" for k, (lo, hi) in c.ranges.items()))
        else:
            lines.append("  no labels")
        lines.append("")
    lines += [f"FAIL {p}" for p in problems] or ["OK: ingest would pass the max_reject_fraction check"]
    return "\n".join(lines)


def run_check(domain: str, params: Params, repo: Path = Path(".")) -> tuple[str, bool]:
    """(the printed report, ok) for `simgan data check <domain>`."""
    syn, real, where = input_dirs(domain, params, repo)
    checks = check_domain(domain, params, syn, real)
    optional = may_be_empty(domain, real)
    problems = failures(checks, params.ingest.max_reject_fraction, optional)
    return format_report(domain, checks, where, problems, optional), not problems
