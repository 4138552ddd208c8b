"""reports/report.md: does training on refined data beat synthetic data on real test images?

Reads what the evaluate and realism stages wrote (metrics/*.json, plots/*.csv) and a few
samples of each split, and writes the markdown report with its PNGs under reports/figures/.
A missing input shows as "n/a" rather than failing, so a partial pipeline still reports.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pipeline.estimate.bootstrap import difference_interval, ratio_interval, seeds_ratio_interval
from pipeline.estimate.metrics import PER_SAMPLE, seed_column
from pipeline.report import figures as fig
from pipeline.params import DOMAINS
from pipeline.report.inputs import TRAINING_DATA, collect, sample_columns
from pipeline.study.results import FIGURES as STUDY_FIGURES

# (domain, metric key, label, lower is better, paper's synthetic / refined / real, source)
ROWS = [
    ("eyes", "pct_within_7deg", "% within 7 deg", False, ("64.9 (4x data)", "87.2 (4x data)", "-"), "SimGAN Table 2"),
    ("eyes", "mean_angular_error_deg", "mean angular error (deg)", True, ("11.2 (CNN)", "7.8", "-"), "SimGAN Table 3"),
    ("hands", "pct_joints_within_5px", "% joints within 5 px", False, ("77.7 (3x)", "83.3 (3x)", "74.5"), "SimGAN Table 4"),
    ("hands", "mean_joint_error_mm", "mean 3D joint error (mm)", True, ("-", "-", "-"), "-"),
    ("hands", "pct_frames_worst_within_40mm", "% frames, worst joint within 40 mm", False, ("-", "-", "-"),
     "NYU's curve at 40 mm"),
]
TARGET_RATIO = {"eyes": 0.8, "hands": 0.85}  # the targets: refined error <= ratio x synthetic error
ERROR_KEY = {"eyes": "mean_angular_error_deg", "hands": "mean_joint_error_mm"}
TASK = {"eyes": "gaze", "hands": "hand pose"}


SPLITS = ("val", "test")  # real_val: where settings were chosen; real_test: read once, by evaluate
PROTOCOL = ("Protocol: settings are chosen on real_val, people / rooms in neither real_train nor real_test, "
            "and real_test was read once, by the evaluate stage, for the test rows. Brackets are paired bootstrap "
            "95 % intervals over the split's samples (2000 resamples, one fixed seed for every estimator, so ratios "
            "are paired); a target is met only when its whole interval is under it.")
SEEDS_NOTE = ("Seeds: with several estimator seeds (train_estimator.seeds > 1), \"N seeds\" is the ratio of the "
              "seeds' mean errors, its interval resampling the seeds as well as the samples.")


def _num(doc: dict | None, key: str, fmt: str = "{:.1f}", scale: float = 1.0) -> str:
    return fmt.format(scale * doc[key]) if doc and doc.get(key) is not None else "n/a"


def split_metrics(doc: dict | None, split: str) -> dict | None:
    """An evaluate doc's figures on one split: the top level is real_test's, "val" real_val's."""
    if not doc:
        return None
    return doc if split == "test" else doc.get("val")


def _cell(m: dict | None, key: str, fmt: str = "{:.1f}") -> str:
    """value [ci95] (and the seeds' mean +- sd when several were trained)."""
    if not m or m.get(key) is None:
        return "n/a"
    text = fmt.format(m[key])
    ci = (m.get("ci95") or {}).get(key)
    if ci:
        text += f" [{fmt.format(ci[0])}, {fmt.format(ci[1])}]"
    seeds = m.get("seeds") or {}
    if key in seeds:
        text += f"; {seeds['n']} seeds: {fmt.format(seeds[key]['mean'])} ± {fmt.format(seeds[key]['sd'])}"
    return text


def _paired_columns(inputs: dict, domain: str, key: str, split: str) -> dict[str, np.ndarray] | None:
    """{"synthetic", "refined"}: (S, n) per-seed, per-sample values of `key` on the samples of `split`
    both estimators were measured on (S = 1 unless train_estimator.seeds > 1 for both); None without
    both per-sample files."""
    rows = {t: inputs["samples"].get((domain, t)) for t in ("synthetic", "refined")}
    if not all(rows.values()) or key not in PER_SAMPLE:
        return None
    name = f"real_{split}"
    rows = {t: [r for r in rs if r["split"] == name] for t, rs in rows.items()}
    if not all(rows.values()):
        return None
    col = PER_SAMPLE[key]
    if not all(col in rs[0] for rs in rows.values()):
        return None
    seeds = min(sum(seed_column(col, i) in rs[0] for i in range(len(rs[0]))) for rs in rows.values())
    cols = [seed_column(col, i) for i in range(seeds)]
    by_key = {t: {r["key"]: [r[c] for c in cols] for r in rs} for t, rs in rows.items()}
    keys = sorted(by_key["synthetic"].keys() & by_key["refined"].keys())
    if not keys:
        return None
    return {t: np.array([by_key[t][k] for k in keys]).T for t in by_key}


def paired_change(inputs: dict, domain: str, key: str, split: str, lower: bool) -> tuple[float, list[float]] | None:
    """(refined vs synthetic, its paired 95 % interval) for seed 0: the error ratio, or the % difference,
    over the same samples of `split` resampled together; None without both per-sample files."""
    cols = _paired_columns(inputs, domain, key, split)
    if cols is None:
        return None
    syn, ref = cols["synthetic"][0], cols["refined"][0]
    if lower:
        return float(ref.mean() / syn.mean()), ratio_interval(ref, syn)
    return float(ref.mean() - syn.mean()), difference_interval(ref, syn)


def seeds_ratio(inputs: dict, domain: str, key: str, split: str) -> tuple[int, float, list[float]] | None:
    """(S, the ratio of the S seeds' mean errors, its 95 % interval over samples and seeds) when both
    estimators were trained with S > 1 seeds; None otherwise."""
    cols = _paired_columns(inputs, domain, key, split)
    if cols is None or len(cols["synthetic"]) < 2:
        return None
    syn, ref = cols["synthetic"], cols["refined"]
    return len(syn), float(ref.mean() / syn.mean()), seeds_ratio_interval(ref, syn)


def _change(inputs: dict, domain: str, key: str, split: str, lower: bool, ev: list) -> str:
    paired = paired_change(inputs, domain, key, split, lower)
    if paired:
        v, (lo, hi) = paired
        text = f"{v:.2f}x [{lo:.2f}, {hi:.2f}]" if lower else f"{v:+.1f} pts [{lo:+.1f}, {hi:+.1f}]"
        seeds = seeds_ratio(inputs, domain, key, split) if lower else None
        if seeds:
            n, v, (lo, hi) = seeds
            text += f"; {n} seeds: {v:.2f}x [{lo:.2f}, {hi:.2f}]"
        return text
    if ev[0] and ev[1] and ev[0].get(key):  # no per-sample files: the point figure only
        return f"{ev[1][key] / ev[0][key]:.2f}x" if lower else f"{ev[1][key] - ev[0][key]:+.1f} pts"
    return "n/a"


def _c2st(r: dict) -> str:
    ci = r.get("ci95")
    interval = f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else ""
    return f"{100 * r['accuracy']:.1f}{interval} (p={r['p_value']:.2g}; {r.get('log_loss', float('nan')):.2f})"


def _kid(k: dict | None) -> str:
    return f"{1000 * k['mean']:.2f} ± {1000 * k['std']:.2f}" if k else "n/a"


def results_table(inputs: dict) -> str:
    """The paper's table (docs/simgan.md) with our numbers (val and test, with intervals) beside the paper's."""
    head = ("| task | metric | split | synthetic | refined | real (oracle) | refined vs synthetic "
            "| paper: synthetic | paper: refined | paper: real | source |\n|" + "---|" * 11)
    lines = [head]
    for domain, key, label, lower, paper, source in ROWS:
        for split in SPLITS:
            ev = [split_metrics(inputs["evaluate"][domain, t], split) for t in TRAINING_DATA]
            lines.append(f"| {TASK[domain]} ({domain}) | {label} | {split} | " + " | ".join(_cell(e, key) for e in ev)
                         + f" | {_change(inputs, domain, key, split, lower, ev)} | " + " | ".join(paper) + f" | {source} |")
    for domain in DOMAINS:
        r = inputs["realism"][domain]
        if r:
            c = r["c2st"]
            lines.append(f"| realism ({domain}) | C2ST accuracy, real vs X (%), within population (p; held-out "
                         f"log-loss, chance 0.69) | real_holdout | {_c2st(c['synthetic'])} | {_c2st(c['refined'])} | "
                         f"{_c2st(c['real']) + ' (floor: real_train vs real_holdout)' if 'real' in c else '-'} | - | - | "
                         "51.7 (humans, real vs refined; chance 50) | - | SimGAN §4.1 |")
            cross = (r.get("cross_population") or {}).get("c2st")
            if cross:
                lines.append(f"| realism ({domain}) | C2ST accuracy, real vs X (%), across populations (other "
                             f"people / rooms) | real_val | {_c2st(cross['synthetic'])} | {_c2st(cross['refined'])} | "
                             f"{_c2st(cross['real'])} (floor: real_train vs real_val) | - | - | - | - | - |")
            k = r["kid"]
            if k:  # none with unlabelled real data: no oracle features (see "Skipped")
                lines.append(f"| realism ({domain}) | KID x 1000, real vs X (mean ± std over subsets) | real_holdout | "
                             f"{_kid(k.get('synthetic'))} | {_kid(k.get('refined'))} | {_kid(k.get('real'))} (floor) "
                             "| - | - | - | - | - |")
    return "\n".join(lines)


def targets_text(inputs: dict) -> str:
    out = []
    for domain in DOMAINS:
        key, goal = ERROR_KEY[domain], TARGET_RATIO[domain]
        figures = {}
        for split in SPLITS:
            syn = split_metrics(inputs["evaluate"][domain, "synthetic"], split)
            ref = split_metrics(inputs["evaluate"][domain, "refined"], split)
            if syn and ref:
                paired = paired_change(inputs, domain, key, split, True)
                figures[split] = (syn[key], ref[key]) + (paired or (ref[key] / syn[key], None))
        if "test" in figures:
            syn, ref, ratio, ci = figures["test"]
            if ci:
                verdict = "met" if ci[1] <= goal else "NOT met"
                interval = f" [{ci[0]:.2f}, {ci[1]:.2f}]"
            else:
                verdict, interval = "NOT met (no interval: per-sample errors missing)", ""
            val = (f"; val: {figures['val'][2]:.2f}x" + (f" [{figures['val'][3][0]:.2f}, {figures['val'][3][1]:.2f}]"
                                                         if figures["val"][3] else "")) if "val" in figures else ""
            out.append(f"- {TASK[domain]}: refined-trained error {ref:.2f} vs synthetic-trained {syn:.2f} on test "
                       f"= {ratio:.2f}x{interval} (target: whole interval <= {goal}x): **{verdict}**{val}")
            seeds = {split: seeds_ratio(inputs, domain, key, split) for split in SPLITS}
            if seeds["test"]:
                n, ratio, ci = seeds["test"]
                val = f"; val: {seeds['val'][1]:.2f}x [{seeds['val'][2][0]:.2f}, {seeds['val'][2][1]:.2f}]" if seeds["val"] else ""
                out.append(f"- {TASK[domain]}, mean of {n} estimator seeds (interval over samples and seeds): "
                           f"{ratio:.2f}x [{ci[0]:.2f}, {ci[1]:.2f}] on test: **{'met' if ci[1] <= goal else 'NOT met'}**{val}")
        r = inputs["realism"][domain]
        if r:
            c = r["c2st"]
            a_syn, a_ref = c["synthetic"], c["refined"]
            lower = ("lower" if a_ref.get("ci95") and a_syn.get("ci95") and a_ref["ci95"][1] < a_syn["ci95"][0]
                     else "lower, intervals overlap" if a_ref["accuracy"] < a_syn["accuracy"] else "NOT lower")
            floor = c.get("real")
            out.append(f"- {domain} realism (within population): C2ST accuracy real vs refined {100 * a_ref['accuracy']:.1f}% "
                       f"vs real vs synthetic {100 * a_syn['accuracy']:.1f}% ({lower})"
                       + (f"; floor, real_train vs real_holdout: {_c2st(floor)}" if floor else ""))
    return "\n".join(out) or "- n/a (no evaluation outputs yet)"




DIFFERENCES = (
    "What differs from the paper: these numbers come from the embedded default (simulated eye and hand "
    "domains with a built-in synthetic-to-real gap), not UnityEyes/MPIIGaze/NYU, so only the direction and "
    "relative size of the effects compare; every training set gets the same budget (the paper's best rows "
    "used 3-4x more synthetic data than real); the estimators are CPU-sized (a quarter-FLOP version of the "
    "paper's gaze CNN; direct regression instead of a 2-stack hourglass for hands); and realism is judged "
    "by a classifier two-sample test and KID instead of human subjects.")

LIMITS = (
    "What limits them is measured outside the pipeline, in the README's \"Results, and what limits "
    "them\": the estimators' spread over seeds (`python -m bench.seed_spread`, or `train_estimator.seeds` "
    "> 1 here), the C2ST floors above (within population: two draws of real_train's people / rooms; "
    "across populations: other people / rooms), and the hand error a perfect refiner of the crops would "
    "reach (`python -m bench.hand_gap`).")


def machine_text(inputs: dict) -> str:
    """Where the refiners trained: the same commit gives other bytes on another CPU kind (bf16 kernels)."""
    trained = {d: m for d, m in inputs.get("machine", {}).items() if m}
    if not trained:
        return ""
    where = "; ".join(f"{d}: {m['cpu']} (bf16 units: {m['cpu_bf16']}), {m['accelerator']}, torch {m['torch']}"
                      for d, m in trained.items())
    return (f"Refiners trained on {where}. Figures move a little with the CPU kind (bf16 autocast kernels "
            "differ); compare ratios within one run.\n")


def skipped_text(inputs: dict) -> list[str]:
    """In words: which stages (or measures) did not run on this data, and why."""
    skipped = inputs.get("skipped") or {}
    kid = {d: r["kid_skipped"] for d, r in inputs["realism"].items() if r and r.get("kid_skipped")}
    if not skipped and not kid:
        return []
    parts = ["## Skipped\n"]
    for d in DOMAINS:
        stages = sorted(k for k in skipped if k.split("@")[1].split("-")[0] == d)
        if stages:
            reasons = "; ".join(sorted({skipped[k] for k in stages}))
            parts.append(f"- **{d}**: {', '.join(stages)} did not run ({reasons}). Unlabelled real data: there are "
                         "no labels to measure an estimator on, so there is no error to report; the refiner needs "
                         f"none, and the refined dataset is published in `data/shards/{d}/refined/` as usual.")
        if d in kid:
            parts.append(f"- **{d}**: KID was not computed ({kid[d]}); realism was judged by the classifier "
                         "two-sample test alone.")
    return parts + [""]


def figures(inputs: dict, shards: Path, out: Path) -> dict[str, Path]:
    """Every PNG of the report (only those whose inputs exist), by name."""
    made = {}
    units = {"eyes": ("threshold_deg", "angular error d (deg)"), "hands": ("threshold_mm", "3D joint error d (mm)")}
    for d in DOMAINS:
        curves = {t: inputs["curves"][d, t] for t in TRAINING_DATA if inputs["curves"][d, t]}
        if curves:
            x, label = units[d]
            made[f"curve-{d}"] = fig.accuracy_curves(curves, x, label, f"{TASK[d]} on real test data",
                                                     out / f"evaluate-{d}.png")
        if inputs["pca"][d]:
            made[f"pca-{d}"] = fig.feature_scatter(inputs["pca"][d], f"{d}: real-oracle features (held out)",
                                                   out / f"realism-{d}-features.png")
        columns = sample_columns(shards, d)
        if columns:
            made[f"grid-{d}"] = fig.image_grid(columns, out / f"samples-{d}.png")
    histories = {d: {t: inputs["history"][d, t] for t in TRAINING_DATA if inputs["history"][d, t]} for d in DOMAINS}
    histories = {d: h for d, h in histories.items() if h}
    if histories:
        made["training"] = fig.training_curves(histories, out / "train_estimator.png")
    realism = {d: r for d, r in inputs["realism"].items() if r}
    if realism:
        made["realism"] = fig.realism_bars(realism, out / "realism.png")
    return made


def _rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def render(inputs: dict, made: dict[str, Path], report_dir: Path, root: Path) -> str:
    def img(name: str, alt: str) -> str:
        return f"![{alt}]({_rel(made[name], report_dir)})\n" if name in made else ""

    parts = ["# SimGAN pipeline report\n",
             "Estimators trained on synthetic, refined and real (oracle) data with the same budget, "
             "evaluated on the labelled real_val and real_test splits; realism judged by networks trained here.\n",
             *skipped_text(inputs),
             "## Results\n", PROTOCOL, "", SEEDS_NOTE, "", results_table(inputs), "", machine_text(inputs), DIFFERENCES, "", "### Targets\n",
             targets_text(inputs), "", LIMITS, "", "## Accuracy curves on real test data\n",
             img("curve-eyes", "gaze curve") + img("curve-hands", "hand curve"),
             "## Realism\n", img("realism", "C2ST accuracy and KID"),
             img("pca-eyes", "eye features") + img("pca-hands", "hand features"),
             "## Samples: synthetic | refined | real\n", img("grid-eyes", "eye samples") + img("grid-hands", "hand samples")]
    for d in DOMAINS:
        grid = root / f"reports/figures/refiner-{d}-grid.png"
        if grid.exists():
            parts.append(f"Refiner training grid ({d}): ![refiner {d}]({_rel(grid, report_dir)})\n")
    parts += ["## Estimator training curves\n", img("training", "training loss")]
    parts += study_section(root, report_dir)
    return "\n".join(parts)


def study_section(root: Path, report_dir: Path) -> list[str]:
    """The visual Turing test (`simgan study`): its screenshots and, once run, its results page."""
    shots = [root / "reports" / f for f in STUDY_FIGURES if (root / "reports" / f).exists()]
    results = sorted((root / "reports").glob("study-*.md"))
    if not shots and not results:
        return []
    parts = ["## Visual Turing test (`simgan study`)\n",
             "Real or refined, one image at a time, as in the paper's user study (517/1000 correct, "
             "p = 0.148). Screenshots of the trial and results pages, from a scripted session with random "
             "answers (`python -m pipeline.study.screenshots`), not from human participants:\n"]
    parts += [f"![{f.stem}]({_rel(f, report_dir)})\n" for f in shots]
    parts += [f"Results: [{f.name}]({_rel(f, report_dir)})\n" for f in results]
    return parts


def build_report(root: Path = Path("."), report_dir: Path = Path("reports")) -> Path:
    """Write report_dir/report.md and its figures from the stage outputs under `root`."""
    root, report_dir = Path(root), Path(report_dir)
    inputs = collect(root)
    made = figures(inputs, root / "data/shards", report_dir / "figures" / "results")
    path = report_dir / "report.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(inputs, made, report_dir, root))
    return path
