"""The report's figures: accuracy curves, training curves, realism bars, feature PCA, sample grids.

matplotlib (Agg) for charts and cv2 for image grids; every function writes one PNG and returns
its path. Colours are fixed per training set so all charts read alike.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pipeline.files import write_png  # noqa: E402

COLOURS = {"synthetic": "tab:orange", "refined": "tab:blue", "real_train": "tab:green", "real": "tab:green"}
LABELS = {"synthetic": "synthetic", "refined": "refined", "real_train": "real (oracle)", "real": "real"}
PNG_META = {"Software": None}  # no version string: the same inputs give the same bytes across installs


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata=PNG_META)
    plt.close(fig)
    return path


def accuracy_curves(curves: dict[str, list[dict]], x: str, xlabel: str, title: str, path: Path) -> Path:
    """% within d, one line per training set; hands add NYU's curve (% of frames whose worst joint
    is within d) dashed, in the set's colour."""
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for data, rows in curves.items():
        ax.plot([r[x] for r in rows], [r["pct_within"] for r in rows], color=COLOURS.get(data), label=LABELS.get(data, data))
        if rows and "pct_frames_worst_within" in rows[0]:
            ax.plot([r[x] for r in rows], [r["pct_frames_worst_within"] for r in rows], color=COLOURS.get(data),
                    linestyle="--", label=f"{LABELS.get(data, data)}: frames, worst joint")
    ax.set(xlabel=xlabel, ylabel="% within d", title=title, ylim=(0, 100))
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


def training_curves(histories: dict[str, dict[str, list[dict]]], path: Path) -> Path:
    """Training loss per epoch; one panel per domain, one line per training set."""
    fig, axes = plt.subplots(1, max(1, len(histories)), figsize=(5 * max(1, len(histories)), 3.4), squeeze=False)
    for ax, (domain, by_data) in zip(axes[0], histories.items()):
        for data, rows in by_data.items():
            ax.plot([r["epoch"] for r in rows], [r["train_loss"] for r in rows], marker="o",
                    color=COLOURS.get(data), label=LABELS.get(data, data))
        ax.set(xlabel="epoch", ylabel="training loss (smooth L1)", title=f"{domain} estimator", yscale="log")
        ax.grid(alpha=0.3)
        ax.legend()
    return _save(fig, path)


def realism_bars(realism: dict[str, dict], path: Path) -> Path:
    """C2ST held-out accuracy and KID (with the real-vs-real floor), synthetic vs refined, per domain."""
    domains = list(realism)
    at = np.arange(len(domains))
    w = 0.27
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    for i, data in enumerate(("synthetic", "refined", "real")):
        accs = [realism[d]["c2st"].get(data) or {"accuracy": 0.0} for d in domains]
        a1.bar(at + (i - 1) * w, [100 * a["accuracy"] for a in accs], w, color=COLOURS[data],
               label="real vs other real (floor)" if data == "real" else f"real vs {data}")
    for i, data in enumerate(("synthetic", "refined", "real")):
        kids = [realism[d]["kid"].get(data) or {"mean": 0.0, "std": 0.0} for d in domains]
        a2.bar(at + (i - 1) * w, [k["mean"] for k in kids], w, yerr=[k["std"] for k in kids],
               color=COLOURS[data], label="real vs real (floor)" if data == "real" else f"real vs {data}")
    a1.axhline(50, color="k", ls="--", lw=1)
    a1.set(ylabel="C2ST held-out accuracy (%)", ylim=(0, 100), title="classifier two-sample test")
    a2.set(ylabel="KID (real-oracle features)", title="kernel inception distance")
    a1.legend(fontsize=8, loc="lower right")
    a2.legend(fontsize=8)
    for ax in (a1, a2):
        ax.set_xticks(at, domains)
    return _save(fig, path)


def feature_scatter(rows: list[dict], title: str, path: Path) -> Path:
    """2-D PCA of held-out feature vectors, coloured by set."""
    fig, ax = plt.subplots(figsize=(4.6, 4))
    for name in ("synthetic", "refined", "real"):
        pts = np.array([(r["pc1"], r["pc2"]) for r in rows if r["set"] == name], float).reshape(-1, 2)
        ax.scatter(pts[:, 0], pts[:, 1], s=4, alpha=0.5, color=COLOURS[name], label=name)
    ax.set(xlabel="PC 1", ylabel="PC 2", title=title)
    ax.legend(markerscale=3)
    return _save(fig, path)


def image_grid(columns: dict[str, list[np.ndarray]], path: Path, scale: int = 3) -> Path:
    """uint8 (H, W) images, one column per named set (e.g. synthetic | refined | real), titled."""
    cols = []
    for name, images in columns.items():
        tiles = [cv2.resize(im, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST) for im in images]
        col = np.concatenate([np.pad(t, 2, constant_values=255) for t in tiles], axis=0)
        head = np.full((22, col.shape[1]), 255, np.uint8)
        cv2.putText(head, name, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1, cv2.LINE_AA)
        cols.append(np.concatenate([head, col], axis=0))
    height = max(c.shape[0] for c in cols)
    grid = np.concatenate([np.pad(c, ((0, height - c.shape[0]), (0, 6)), constant_values=255) for c in cols], axis=1)
    return write_png(grid, path)
