"""Compare eye sets with a folder of real reference eye crops (calibration bench, not a stage).

    python bench/real_reference.py --reference REF_DIR --set real-like=data/shards/eyes/real_test \
        --set synthetic=data/shards/eyes/synthetic --set refined=data/shards/eyes/refined \
        --figure bench/figures/real-reference.png [--json out.json]

A set is a shard split folder (`*.tar`) or a folder of .png/.jpg images. With `--renders`, the
reference folder holds 640x480 UnityEyes-style renders and every set that is an image folder is
cut like them: the largest centred box of the crop's 55:35 aspect (the references' reduced JSON
has no eyelid landmarks for the ingest crop), so whole frames are compared at one framing.

Per set against the reference it reports:
- C2ST, cross-validated (5 folds, pooled out-of-fold accuracy, 95 % Wilson interval; chance 0.5):
  `cnn`, a small CNN on the grey crops; `texture`, logistic regression on texture statistics
  (grey histogram, radial power spectrum, gradient-magnitude and orientation histograms);
- grey level mean / sd and histogram, gradient energy (mean squared finite difference, grey
  levels in [0, 1]), radial power spectrum (share of power per frequency band), high-frequency
  share (top half of the bands);
- where the eye sits: iris centre (darkest blob after blurring, as a fraction of width / height),
  upper and lower eyelid rows (strongest vertical edges above / below it), eye width (span of
  columns with strong vertical edges) over crop width.
Each set is subsampled to the reference's size for the C2ST, so both classes weigh the same.

With `--renders --landmarks CSV` it also reports the framing of the whole frames, measured from
landmarks rather than the finder: eye width (the interior margin's horizontal extent, corner to
corner) and visible iris width, over the frame width. Renders with UnityEyes JSON are measured
from their labels; the references from the CSV (`bench/data/unityeyes2-reference-landmarks.csv`,
hand-read eye corners of the 10 UnityEyes2 references). The finder's eye width on the centred box
scatters over 0.24-1.00 on those references (lid folds, lashes), too wide to judge +-10 %.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

OUT_W, OUT_H = 55, 35
N_BANDS = 8


# ---------------------------------------------------------------- loading
def _centre_box(grey: np.ndarray) -> np.ndarray:
    h, w = grey.shape
    aspect = OUT_W / OUT_H
    bw, bh = (w, round(w / aspect)) if w / h < aspect else (round(h * aspect), h)
    x0, y0 = (w - bw) // 2, (h - bh) // 2
    return cv2.resize(grey[y0:y0 + bh, x0:x0 + bw], (OUT_W, OUT_H), interpolation=cv2.INTER_AREA)


def load_set(path: Path, n_max: int, seed: int, renders: bool = False) -> np.ndarray:
    """(N, 35, 55) uint8 crops of a shard split or an image folder (at most n_max, a seeded draw)."""
    path = Path(path)
    if not path.is_dir():
        sys.exit(f"{path}: not a folder (give a shard split folder or a folder of images)")
    tars = sorted(path.glob("*.tar"))
    rng = np.random.default_rng(seed)
    if tars:
        from pipeline.shards import iter_shard
        ims = [s.image for t in tars for s in iter_shard(t)]
    else:
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
        if not files:
            sys.exit(f"{path}: no *.tar shards and no .png/.jpg images")
        if len(files) > n_max:
            files = [files[i] for i in sorted(rng.choice(len(files), n_max, replace=False))]
        ims = []
        for f in files:
            im = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
            if im is None:
                sys.exit(f"{f}: not a decodable image")
            ims.append(_centre_box(im) if renders else im)
    ims = [im if im.shape == (OUT_H, OUT_W) else cv2.resize(im, (OUT_W, OUT_H), interpolation=cv2.INTER_AREA)
           for im in ims]
    x = np.stack(ims).astype(np.uint8)
    if len(x) > n_max:
        x = x[np.sort(rng.choice(len(x), n_max, replace=False))]
    return x


# ---------------------------------------------------------------- framing from landmarks
def read_landmarks(path: Path) -> dict[str, tuple[float, float]]:
    """file name -> (eye width, visible iris width) in px from a landmarks CSV (`#` lines are comments;
    an empty iris column, a hidden iris, reads as nan)."""
    import csv
    rows = csv.DictReader(line for line in Path(path).read_text().splitlines() if not line.startswith("#"))
    out = {}
    for r in rows:
        iris = (float(r["iris_right_x"]) - float(r["iris_left_x"])) if r["iris_left_x"] else np.nan
        out[r["file"]] = (abs(float(r["outer_x"]) - float(r["inner_x"])), iris)
    return out


def frame_framing(folder: Path, landmarks: dict | None, n_max: int = 2000) -> np.ndarray:
    """(N, 2) eye width and iris width over frame width for the renders in `folder`: from each
    image's UnityEyes JSON when it has one (interior_margin_2d, iris_2d), else from `landmarks`."""
    from pipeline.formats.unityeyes import parse_points
    rows = []
    for f in sorted(p for p in Path(folder).iterdir() if p.suffix.lower() == ".jpg")[:n_max]:
        w = cv2.imread(str(f), cv2.IMREAD_REDUCED_GRAYSCALE_8).shape[1] * 8
        ann = json.loads(f.with_suffix(".json").read_text()) if f.with_suffix(".json").exists() else {}
        if "interior_margin_2d" in ann:
            margin, iris = parse_points(ann, "interior_margin_2d", 0), parse_points(ann, "iris_2d", 0)
            rows.append((np.ptp(margin[:, 0]) / w, np.ptp(iris[:, 0]) / w))
        elif landmarks and f.name in landmarks:
            rows.append(tuple(v / w for v in landmarks[f.name]))
    return np.array(rows, float).reshape(-1, 2)


def framing_table(framing: dict[str, np.ndarray]) -> str:
    ref = framing.get("reference")
    rows = ["| set | n | eye width / frame width (sd) | vs reference | iris width / frame width (n) | iris / eye width |",
            "|---|---|---|---|---|---|"]
    for name, f in framing.items():
        if not len(f):
            continue
        eye, iris = f[:, 0], f[:, 1][np.isfinite(f[:, 1])]
        both = f[np.isfinite(f[:, 1])]
        vs = f"{eye.mean() / ref[:, 0].mean() - 1:+.0%}" if ref is not None and len(ref) and name != "reference" else "-"
        rows.append(f"| {name} | {len(f)} | {eye.mean():.3f} ({eye.std():.3f}) | {vs} | "
                    f"{iris.mean():.3f} ({len(iris)}) | {(both[:, 1] / both[:, 0]).mean():.2f} |")
    return "\n".join(rows)


# ---------------------------------------------------------------- statistics
def radial_spectrum(x: np.ndarray) -> np.ndarray:
    """(N, N_BANDS) share of (mean-removed, windowed) power per radial frequency band."""
    f = x.astype(np.float32) / 255
    f = f - f.mean(axis=(1, 2), keepdims=True)
    win = np.outer(np.hanning(OUT_H), np.hanning(OUT_W)).astype(np.float32)
    p = np.abs(np.fft.fftshift(np.fft.fft2(f * win), axes=(1, 2))) ** 2
    fy = np.fft.fftshift(np.fft.fftfreq(OUT_H))[:, None]
    fx = np.fft.fftshift(np.fft.fftfreq(OUT_W))[None, :]
    r = np.sqrt(fx ** 2 + fy ** 2) / 0.5
    band = np.clip((r * N_BANDS).astype(int), 0, N_BANDS)  # N_BANDS: corners past Nyquist
    out = np.stack([p[:, band == k].sum(1) for k in range(1, N_BANDS)], 1)  # band 0 is the mean
    return out / (out.sum(1, keepdims=True) + 1e-12)


def gradients(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = x.astype(np.float32) / 255
    gx = np.zeros_like(f)
    gy = np.zeros_like(f)
    gx[:, :, 1:-1] = (f[:, :, 2:] - f[:, :, :-2]) / 2
    gy[:, 1:-1] = (f[:, 2:] - f[:, :-2]) / 2
    return gx, gy


def gradient_energy(x: np.ndarray) -> np.ndarray:
    gx, gy = gradients(x)
    return (gx ** 2 + gy ** 2).mean(axis=(1, 2))


def texture_features(x: np.ndarray) -> np.ndarray:
    """(N, F) texture statistics: layout-free, so the linear C2ST judges appearance, not geometry."""
    n = len(x)
    hist = np.stack([np.bincount(im.ravel() // 16, minlength=16) for im in x]) / x[0].size
    spec = np.log(radial_spectrum(x) + 1e-6)
    gx, gy = gradients(x)
    mag = np.sqrt(gx ** 2 + gy ** 2).reshape(n, -1)
    mag_hist = np.stack([np.histogram(m, bins=8, range=(0, 0.4))[0] for m in mag]) / mag.shape[1]
    ang = np.arctan2(gy, gx).reshape(n, -1)
    ori = np.stack([np.bincount(((a + np.pi) / (2 * np.pi) * 8).astype(int) % 8, weights=m, minlength=8)
                    for a, m in zip(ang, mag)])
    ori = ori / (ori.sum(1, keepdims=True) + 1e-9)
    lap = np.stack([cv2.Laplacian(im.astype(np.float32) / 255, cv2.CV_32F).var() for im in x])[:, None]
    f = x.astype(np.float32) / 255
    return np.concatenate([hist, spec, mag_hist, ori, np.log(gradient_energy(x) + 1e-6)[:, None],
                           np.log(lap + 1e-6), f.mean((1, 2))[:, None], f.std((1, 2))[:, None]], 1)


def eye_placement(x: np.ndarray) -> dict:
    """Iris centre, eyelid rows and eye width, located the same way in every set (no labels)."""
    n = len(x)
    f = np.stack([cv2.GaussianBlur(im.astype(np.float32) / 255, (0, 0), 2.5) for im in x])
    flat = f.reshape(n, -1).argmin(1)
    iy, ix = np.divmod(flat, OUT_W)
    gy = np.abs(np.diff(np.stack([cv2.GaussianBlur(im.astype(np.float32) / 255, (0, 0), 1.0) for im in x]), axis=1))
    upper, lower, width = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        band = gy[i, :, max(ix[i] - 8, 0):ix[i] + 9].mean(1)  # rows around the iris column
        up, lo = band[:max(iy[i] - 1, 1)], band[iy[i] + 1:]
        upper[i] = np.argmax(up) if len(up) else 0
        lower[i] = iy[i] + 1 + np.argmax(lo) if len(lo) else OUT_H - 1
        prof = gy[i, max(iy[i] - 6, 0):iy[i] + 6].mean(0)  # columns with edges at the eye's height
        strong = np.nonzero(prof > 0.5 * prof.max())[0]
        width[i] = (strong[-1] - strong[0] + 1) / OUT_W if len(strong) else 0
    return {"iris_x": ix / (OUT_W - 1), "iris_y": iy / (OUT_H - 1), "upper_lid": upper / (OUT_H - 1),
            "lower_lid": lower / (OUT_H - 1), "eye_width": width}


def summary(x: np.ndarray) -> dict:
    f = x.astype(np.float32)
    spec = radial_spectrum(x)
    place = eye_placement(x)
    ge = gradient_energy(x)
    return {"n": len(x), "grey_mean": float(f.mean()), "grey_sd": float(f.std(axis=(1, 2)).mean()),
            "gradient_energy": float(ge.mean()), "high_freq_share": float(spec[:, N_BANDS // 2:].sum(1).mean()),
            "spectrum": spec.mean(0).round(5).tolist(),
            "histogram": (np.bincount(x.ravel() // 16, minlength=16) / x.size).round(4).tolist(),
            **{k: float(v.mean()) for k, v in place.items()},
            **{k + "_sd": float(v.std()) for k, v in place.items()}}


# ---------------------------------------------------------------- C2ST
def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return float(c - h), float(c + h)


def _folds(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), int)
    for c in (0, 1):
        idx = rng.permutation(np.nonzero(y == c)[0])
        fold[idx] = np.arange(len(idx)) % k
    return fold


def c2st_texture(a: np.ndarray, b: np.ndarray, seed: int, k: int = 5) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X = np.concatenate([texture_features(a), texture_features(b)])
    y = np.r_[np.zeros(len(a)), np.ones(len(b))]
    fold, correct = _folds(y, k, seed), np.zeros(len(y), bool)
    for j in range(k):
        m = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
        m.fit(X[fold != j], y[fold != j])
        correct[fold == j] = m.predict(X[fold == j]) == y[fold == j]
    return correct


class SmallCNN:
    """Three stride-2 conv layers (8, 16, 32 maps), global average pool, a logit."""

    @staticmethod
    def make():
        from torch import nn
        layers, c = [], 1
        for w in (8, 16, 32):
            layers += [nn.Conv2d(c, w, 3, 2, 1), nn.BatchNorm2d(w), nn.ReLU()]
            c = w
        return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 1))


def c2st_cnn(a: np.ndarray, b: np.ndarray, seed: int, k: int = 5, epochs: int = 40) -> np.ndarray:
    import torch
    torch.manual_seed(seed)
    X = torch.from_numpy(np.concatenate([a, b]).astype(np.float32)[:, None] / 127.5 - 1)
    y = torch.from_numpy(np.r_[np.zeros(len(a)), np.ones(len(b))].astype(np.float32))
    fold, correct = _folds(y.numpy(), k, seed), np.zeros(len(y), bool)
    rng = np.random.default_rng(seed)
    for j in range(k):
        tr, te = np.nonzero(fold != j)[0], np.nonzero(fold == j)[0]
        net = SmallCNN.make()
        opt = torch.optim.Adam(net.parameters(), 3e-3, weight_decay=1e-4)
        for _ in range(epochs):
            net.train()
            for idx in np.array_split(rng.permutation(tr), max(1, len(tr) // 32)):
                xb = X[idx]
                flip = torch.from_numpy(rng.random(len(idx)) < 0.5)
                xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)  # left/right eyes alike
                loss = torch.nn.functional.binary_cross_entropy_with_logits(net(xb).squeeze(1), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        net.eval()
        with torch.no_grad():
            correct[te] = ((net(X[te]).squeeze(1) > 0).float() == y[te]).numpy()
    return correct


def c2st(a: np.ndarray, b: np.ndarray, seed: int, repeats: int) -> dict:
    """Pooled out-of-fold accuracy over `repeats` draws/fold splits, with a Wilson interval on the
    n = len(a) + len(b) of one split (repeats average out fold luck, they add no independent data)."""
    out = {}
    rng = np.random.default_rng(seed)
    for name, fn in (("cnn", c2st_cnn), ("texture", c2st_texture)):
        accs = []
        for r in range(repeats):
            bb = b[rng.choice(len(b), len(a), replace=False)] if len(b) > len(a) else b
            accs.append(fn(a, bb, seed + r).mean())
        acc = float(np.mean(accs))
        n = len(a) + min(len(a), len(b))
        lo, hi = wilson(round(acc * n), n)
        out[name] = {"acc": acc, "lo": lo, "hi": hi, "n": n, "repeats": repeats}
    return out


# ---------------------------------------------------------------- figure
def figure(sets: dict[str, np.ndarray], stats: dict, path: Path, rows: int = 2, per_row: int = 8) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(sets)
    fig = plt.figure(figsize=(13, 1.25 * rows * len(names) + 0.5))
    gs = fig.add_gridspec(len(names), 4, width_ratios=[3.2, 1, 1, 1])
    for i, name in enumerate(names):
        ax = fig.add_subplot(gs[i, 0])
        x = sets[name][np.linspace(0, len(sets[name]) - 1, min(rows * per_row, len(sets[name]))).astype(int)]  # spread over people
        x = np.concatenate([x, np.zeros((rows * per_row - len(x), OUT_H, OUT_W), np.uint8)])
        grid = np.vstack([np.hstack(list(x[r * per_row:(r + 1) * per_row])) for r in range(rows)])
        ax.imshow(grid, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_ylabel(name, fontsize=9)
    ax_h, ax_s, ax_p = (fig.add_subplot(gs[:, j]) for j in (1, 2, 3))
    for name in names:
        s = stats[name]
        ax_h.plot(np.arange(8, 256, 16), s["histogram"], label=name)
        ax_s.semilogy(np.arange(1, N_BANDS) / N_BANDS * 0.5, s["spectrum"], label=name)
        ax_p.scatter([s["iris_x"]], [s["iris_y"]], label=name)
        ax_p.errorbar([s["iris_x"]], [s["upper_lid"]], fmt="v", ms=4)
        ax_p.errorbar([s["iris_x"]], [s["lower_lid"]], fmt="^", ms=4)
    ax_h.set_title("grey histogram", fontsize=9)
    ax_s.set_title("radial power share (cycles/px)", fontsize=9)
    ax_p.set_title("iris (o), lids (v ^) in crop", fontsize=9)
    ax_p.set_xlim(0, 1), ax_p.set_ylim(1, 0)
    ax_h.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)


def frames_figure(folders: dict[str, Path], path: Path, per_row: int = 5, width: int = 256) -> None:
    """Whole frames side by side (grey, as the bench reads them): the first `per_row` images of each
    image folder in name order, one row per set (`--renders` only: the crops hide the framing)."""
    rows = []
    for name, folder in folders.items():
        files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[:per_row]
        ims = [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files]
        ims = [cv2.resize(im, (width, round(width * im.shape[0] / im.shape[1])), interpolation=cv2.INTER_AREA) for im in ims]
        h = max(im.shape[0] for im in ims)
        row = np.full((h + 18, per_row * (width + 4)), 255, np.uint8)
        for i, im in enumerate(ims):
            row[18:18 + im.shape[0], i * (width + 4):i * (width + 4) + width] = im
        cv2.putText(row, name, (2, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 0, 1, cv2.LINE_AA)
        rows.append(row)
    cv2.imwrite(str(path), np.vstack(rows))


def table(stats: dict, tests: dict) -> str:
    head = ("| set | C2ST cnn | C2ST texture | grey mean / sd | gradient energy | high-freq share | "
            "iris x, y | upper / lower lid | eye width |\n|---|---|---|---|---|---|---|---|---|")
    rows = [head]
    for name, s in stats.items():
        t = tests.get(name)
        fmt = (lambda d: f"{d['acc']:.2f} [{d['lo']:.2f}, {d['hi']:.2f}]") if t else None
        rows.append(f"| {name} | {fmt(t['cnn']) if t else '-'} | {fmt(t['texture']) if t else '-'} | "
                    f"{s['grey_mean']:.0f} / {s['grey_sd']:.0f} | {s['gradient_energy']:.4f} | "
                    f"{s['high_freq_share']:.3f} | {s['iris_x']:.2f}, {s['iris_y']:.2f} | "
                    f"{s['upper_lid']:.2f} / {s['lower_lid']:.2f} | {s['eye_width']:.2f} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, type=Path, help="folder of real reference images")
    ap.add_argument("--renders", action="store_true", help="reference (and image-folder sets) are 640x480 renders")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=DIR",
                    help="a set to compare: shard split folder or image folder (repeatable)")
    ap.add_argument("--max-samples", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3, help="C2ST draws / fold splits averaged")
    ap.add_argument("--no-c2st", action="store_true", help="statistics only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--figure", type=Path)
    ap.add_argument("--frames-figure", type=Path, help="with --renders: whole frames of every image-folder set, side by side")
    ap.add_argument("--landmarks", type=Path,
                    help="with --renders: CSV of the references' hand-read eye corners and iris edges (framing table)")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    if a.landmarks and not a.renders:
        ap.error("--landmarks needs --renders")
    import torch
    torch.set_num_threads(1)
    folders = {"reference": a.reference}
    for spec in a.set:
        name, _, d = spec.partition("=")
        if not d:
            ap.error(f"--set {spec!r}: expected NAME=DIR")
        folders[name] = Path(d)
    sets = {k: load_set(d, a.max_samples, a.seed, a.renders) for k, d in folders.items()}
    stats = {k: summary(v) for k, v in sets.items()}
    tests = {} if a.no_c2st else {k: c2st(sets["reference"], v, a.seed, a.repeats)
                                  for k, v in sets.items() if k != "reference"}
    print(table(stats, tests))
    if a.figure:
        a.figure.parent.mkdir(parents=True, exist_ok=True)
        figure(sets, stats, a.figure)
        print(f"figure: {a.figure}")
    if a.frames_figure:
        if not a.renders:
            ap.error("--frames-figure needs --renders")
        a.frames_figure.parent.mkdir(parents=True, exist_ok=True)
        frames_figure({k: d for k, d in folders.items() if not sorted(Path(d).glob("*.tar"))}, a.frames_figure)
        print(f"frames figure: {a.frames_figure}")
    framing = {}
    if a.landmarks:
        marks = read_landmarks(a.landmarks)
        framing = {k: frame_framing(d, marks, a.max_samples) for k, d in folders.items()}
        print(framing_table(framing))
    if a.json:
        a.json.write_text(json.dumps({"stats": stats, "c2st": tests,
                                      "framing": {k: v.tolist() for k, v in framing.items()}}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
