"""Ingest throughput: images/s of the ingest stage against a decode-only loop over the same files.

Decode-only = read + decode + crop with the same per-record function and the same number of
worker processes, nothing encoded or written; the ratio ingest / decode-only says what the shard
writing costs (target >= 0.7). The raw data is generated first, and the simulator's own rate is
reported per domain too.

    python -m bench.ingest --domain eyes                       # 6000 renders, 15 x 400 frames
    python -m bench.ingest --domain eyes --n-synthetic 500 --participants 3 --frames 100   # quick
    python -m bench.ingest --domain hands                      # 3000 synthetic, 2000 + 1000 real-like
    python -m bench.ingest --domain hands --n-synthetic 400 --frames 400                   # quick
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2

from pipeline.params import load_params
from pipeline.shards import Sample


def decode_only(items, load, workers: int) -> int:
    """Samples produced by `load` over `items` in `workers` processes; nothing written."""
    chunk = max(1, min(64, len(items) // (workers * 8)))  # as pipeline.ingest.common.map_records
    with mp.get_context("spawn").Pool(workers, initializer=cv2.setNumThreads, initargs=(1,)) as pool:
        return sum(sum(isinstance(r, Sample) for r in recs) for recs in pool.imap(load, items, chunksize=chunk))


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (worker pools are joined per step)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):
    """(result, wall seconds, CPU seconds): on a shared machine CPU time shows the cost itself."""
    t, c = time.perf_counter(), cpu_seconds()
    out = fn()
    return out, time.perf_counter() - t, cpu_seconds() - c


def decode_vs_ingest(items, load, ingest, params, work: Path, workers: int, decode_what: str,
                     repeat: int) -> list:
    """The two rows the target compares: decode-only over `items`, then the real ingest, alternated
    `repeat` times; each row keeps its fastest run (this VM's timings vary by ~10 % run to run)."""
    raw = work / "raw"
    dec, ing = [], []
    for _ in range(repeat):
        dec.append(timed(lambda: decode_only(items, load, workers)))
        result, *t = timed(lambda: ingest(params, raw / "synthetic", raw / "real", work / "data"))
        ing.append((sum(c["written"] for c in result["counts"].values()), *t))
    return [(f"decode-only ({decode_what})", *min(dec, key=lambda r: r[1])),
            ("ingest (shards+manifest+labels)", *min(ing, key=lambda r: r[1]))]


def bench_eyes(args, params) -> list[tuple[str, int, float]]:
    from pipeline.ingest.eyes import ingest_eyes, plan
    from pipeline.simulate.eyes import participant_ids, simulate_real, simulate_synthetic

    sim = replace(params.eyes.simulate, n_synthetic=args.n_synthetic or params.eyes.simulate.n_synthetic,
                  n_participants=args.participants or params.eyes.simulate.n_participants,
                  n_per_participant=args.frames or params.eyes.simulate.n_per_participant, workers=args.workers)
    n_test = max(1, min(len(params.eyes.ingest.test_participants), sim.n_participants // 3))
    eyes = replace(params.eyes, ingest=replace(params.eyes.ingest, test_participants=participant_ids(n_test)))
    params = replace(params, ingest=replace(params.ingest, workers=args.workers), eyes=eyes)
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-eyes-", dir=args.tmp))
    try:
        raw = work / "raw"
        n_syn, *t_syn = timed(lambda: simulate_synthetic(raw / "synthetic", sim, params.seed))
        n_real, *t_real = timed(lambda: simulate_real(raw / "real", sim, params.seed))
        items, load, _ = plan(params, raw / "synthetic", raw / "real")
        return [("simulate synthetic (640x480 jpg+json)", n_syn, *t_syn),
                ("simulate real-like (MPIIGaze .mat)", n_real, *t_real),
                *decode_vs_ingest(items, load, ingest_eyes, params, work, args.workers, "read+decode+crop",
                                  args.repeat)]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_hands(args, params) -> list[tuple[str, int, float]]:
    from pipeline.ingest.hands import ingest_hands, plan
    from pipeline.simulate.hands import simulate_split

    hs = params.hands.simulate
    n_train = args.frames or hs.n_real_train
    sim = replace(hs, n_synthetic=args.n_synthetic or hs.n_synthetic, n_real_train=n_train,
                  n_real_test=max(1, n_train // 2) if args.frames else hs.n_real_test, workers=args.workers)
    # the default's real_val rooms (20-24) need 2500 frames: a quick run keeps those that exist, or its last room
    n_rooms = -(-n_train // params.hands.ingest.sequence_frames)
    val = [s for s in params.hands.ingest.val_sequences if s < n_rooms] or ([n_rooms - 1] if n_rooms > 1 else [])
    params = replace(params, ingest=replace(params.ingest, workers=args.workers),
                     hands=replace(params.hands, ingest=replace(params.hands.ingest, val_sequences=val)))
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-hands-", dir=args.tmp))
    try:
        raw = work / "raw"
        n_syn, *t_syn = timed(lambda: simulate_split(raw / "synthetic", "synthetic", sim.n_synthetic, sim, params.seed))
        n_real, *t_real = timed(lambda: simulate_split(raw / "real" / "train", "real_train", sim.n_real_train, sim,
                                                       params.seed)
                                + simulate_split(raw / "real" / "test", "real_test", sim.n_real_test, sim, params.seed))
        frames, load = plan(params, raw / "synthetic", raw / "real")
        return [("simulate synthetic (NYU synthdepth png)", n_syn, *t_syn),
                ("simulate real-like (NYU depth png)", n_real, *t_real),
                *decode_vs_ingest(frames, load, ingest_hands, params, work, args.workers, "read+decode+locate+crop",
                                  args.repeat)]
    finally:
        shutil.rmtree(work, ignore_errors=True)


BENCHES = {"eyes": bench_eyes, "hands": bench_hands}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--domain", required=True, choices=sorted(BENCHES))
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--n-synthetic", type=int, default=0,
                    help="eyes: renders; hands: synthetic frames (default: params)")
    ap.add_argument("--participants", type=int, default=0, help="eyes: real-like participants (default: params)")
    ap.add_argument("--frames", type=int, default=0,
                    help="eyes: frames per participant; hands: real_train frames, real_test half as many "
                         "(default: params)")
    ap.add_argument("--repeat", type=int, default=3, help="decode-only/ingest runs, fastest kept (default: 3)")
    ap.add_argument("--tmp", default=None, help="scratch folder (default: the system temp dir)")
    args = ap.parse_args()
    if args.domain not in BENCHES:
        raise SystemExit(f"no ingest bench for domain {args.domain!r} yet")
    rows = BENCHES[args.domain](args, load_params(args.params))
    print(f"\n{'step':<40} {'images':>7} {'wall s':>7} {'images/s':>9} {'CPU s':>7} {'img/CPU-s':>9}"
          f"   ({args.workers} workers)")
    for name, n, wall, cpu in rows:
        print(f"{name:<40} {n:>7} {wall:>7.2f} {n / wall:>9.0f} {cpu:>7.2f} {n / cpu:>9.0f}")
    rates = {name.split(" (")[0]: (n / wall, n / cpu) for name, n, wall, cpu in rows}
    if "ingest" in rates and "decode-only" in rates:
        print(f"\ningest / decode-only: {rates['ingest'][0] / rates['decode-only'][0]:.2f} by wall time, "
              f"{rates['ingest'][1] / rates['decode-only'][1]:.2f} by CPU time (target >= 0.7)")

if __name__ == "__main__":
    main()
