"""The shard contract (docs/shards.md) in one place: writing and reading WebDataset shards.

A split directory holds `<split>-000000.tar ...`, `manifest.parquet` (one row per sample),
`dataset.json` (counts in = written + rejected, producer info) and `rejected.jsonl`.
Shards are deterministic (sorted members, mtime 0, fixed owner) and written atomically
(temporary name, then rename), so identical inputs give byte-identical outputs and a
killed stage never leaves a truncated shard under its final name.
"""
from __future__ import annotations

import json
import re
import tarfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import __version__
from pipeline.errors import PipelineError, RejectionError
from pipeline.files import atomic_open, write_json, write_jsonl

KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
MEMBERS = ("image.png", "meta.json")


@dataclass
class Sample:
    key: str
    image: np.ndarray  # uint8 (H, W) grey eyes, or uint16 (H, W) depth in mm
    meta: dict


@dataclass
class EncodedSample:
    """A sample as its shard bytes, plus its manifest columns: what ingest workers hand the writer."""
    key: str
    png: bytes
    meta_json: bytes
    fields: dict                 # manifest columns from meta (see manifest_fields)
    labels: dict | None = None   # flattened labels held apart from the shard (real_train)


@dataclass
class Reject:
    source: str
    reason: str
    split: str = ""


def check_key(key: str) -> str:
    if not KEY_RE.match(key):
        raise PipelineError(f"invalid sample key {key!r}: only [A-Za-z0-9_-] (WebDataset splits at dots)")
    return key


# zlib's run-length strategy over "up"-filtered rows, measured on the crops: half the encode time of
# the default (adaptive filter, level 1) on 64x64 depth, a third less on eyes; -7 % / +7 % in size.
PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE,
              cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP]


def encode_png(image: np.ndarray) -> bytes:
    if image.ndim != 2 or image.dtype not in (np.uint8, np.uint16):
        raise PipelineError(f"shard images are 2-D uint8/uint16, got {image.dtype} {image.shape}")
    ok, buf = cv2.imencode(".png", image, PNG_PARAMS)
    if not ok:
        raise PipelineError(f"PNG encoding failed for an image of shape {image.shape}")
    return buf.tobytes()


def encode_meta(meta: dict) -> bytes:
    return json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()


def shard_name(split: str, index: int) -> str:
    return f"{split}-{index:06d}.tar"


def _ustar_template() -> bytes:
    ti = tarfile.TarInfo("")
    ti.mtime, ti.mode, ti.uname, ti.gname = 0, 0o644, "", ""
    return ti.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")


_HEADER = _ustar_template()
# the checksum of the template without its (empty) name and size fields; its own field counts as spaces
_CHKSUM_BASE = sum(_HEADER[:148]) + 8 * 32 + sum(_HEADER[156:]) - sum(_HEADER[124:136])


def tar_header(name: str, size: int) -> bytes:
    """The USTAR header tarfile writes for a member of our shards (mode 644, owner 0, mtime 0),
    byte for byte, built from one template: tarfile.addfile costs ~0.14 ms a member, which made
    the ingest writer the bottleneck (two members per sample)."""
    raw = name.encode()
    if len(raw) > 100 or size >= 8 ** 11:
        raise PipelineError(f"tar member {name!r} ({size} bytes) does not fit a plain USTAR header")
    size_field = b"%011o\0" % size
    h = bytearray(_HEADER)
    h[:len(raw)] = raw
    h[124:136] = size_field
    h[148:155] = b"%06o\0" % (_CHKSUM_BASE + sum(raw) + sum(size_field))
    return bytes(h)


def write_shard(path: Path, members: Iterable[tuple[str, bytes, bytes]]) -> None:
    """Write (key, png, meta_json) members to `path` atomically and deterministically.

    The bytes are those of tarfile in USTAR format (headers from `tar_header`, 512-byte blocks,
    two zero blocks and padding to 10240-byte records at the end). Not webdataset's TarWriter:
    ingest workers then need not import webdataset (and with it torch, ~2.5 s per process).
    """
    with atomic_open(path) as f:
        for key, png, meta in members:
            for name, data in ((f"{check_key(key)}.image.png", png), (f"{key}.meta.json", meta)):
                f.write(tar_header(name, len(data)) + data + bytes(-len(data) % tarfile.BLOCKSIZE))
        end = f.tell() + 2 * tarfile.BLOCKSIZE
        f.write(bytes(2 * tarfile.BLOCKSIZE + (-end % tarfile.RECORDSIZE)))


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        name = f"{prefix}_{k}" if prefix else k
        if isinstance(v, dict):
            out.update(flatten(v, name))
        else:
            out[name] = v
    return out


def manifest_fields(meta: dict) -> dict:
    fields = {"split": meta.get("split", ""), "source": meta.get("source", "")}
    fields.update({k: v for k, v in flatten(meta).items() if k not in fields and k not in ("id", "key", "shard")})
    return fields


def manifest_row(key: str, shard: str, meta: dict) -> dict:
    return {"key": key, "shard": shard, **manifest_fields(meta)}


def encode_sample(sample: Sample, labels_apart: bool = False) -> EncodedSample:
    """PNG, JSON and manifest columns of a sample; with labels_apart, meta["labels"] is taken out
    of the shard and returned beside it."""
    meta, labels = sample.meta, None
    if labels_apart and "labels" in meta:
        meta = dict(meta)
        labels = flatten({"labels": meta.pop("labels")})
    return EncodedSample(check_key(sample.key), encode_png(sample.image), encode_meta(meta),
                         manifest_fields(meta), labels)


def rows_table(rows: list[dict]) -> pa.Table:
    """A table of dict rows: columns are the union of the rows' keys in first-seen order, missing
    values null. (pa.Table.from_pylist takes its columns from the first row only, silently
    dropping keys that appear later, and is ~5x slower on manifests.)"""
    if not rows:
        return pa.table({"key": pa.array([], pa.string())})
    names = dict.fromkeys(k for row in rows for k in row)
    return pa.table({k: [row.get(k) for row in rows] for k in names})


def write_table(rows: list[dict], path: Path) -> None:
    """One parquet file of dict rows (manifests, label tables)."""
    with atomic_open(path) as f:
        pq.write_table(rows_table(rows), f)


INDEX_FILES = ("dataset.json", "manifest.parquet", "rejected.jsonl")  # written last, dataset.json very last


def write_index(split_dir: Path, rows: list[dict], counts: dict, shards: list[str],
                info: dict | None, rejects: list[Reject]) -> None:
    """manifest.parquet, dataset.json and rejected.jsonl beside the shards."""
    split_dir = Path(split_dir)
    write_table(rows, split_dir / "manifest.parquet")
    doc = {"split": split_dir.name, "counts": counts, "shards": shards,
           "code_version": __version__, "info": info or {}}
    write_jsonl(split_dir / "rejected.jsonl", [{"file": r.source, "reason": r.reason} for r in rejects])
    write_json(split_dir / "dataset.json", doc)


class ShardWriter:
    """Streams samples into numbered shards of `shard_size`; writes the index on close.

    The writer owns `split_dir`: the old index and stale shards of an earlier run are removed first, so a
    smaller rerun cannot leave old shards behind. With `labels_apart` (real_train), samples'
    labels are kept out of the shards and collected in `label_rows` for the oracle.
    """

    def __init__(self, split_dir: str | Path, shard_size: int = 1000, info: dict | None = None,
                 labels_apart: bool = False):
        self.dir = Path(split_dir)
        self.split = self.dir.name
        self.shard_size = shard_size
        self.info = info
        self.labels_apart = labels_apart
        self.label_rows: list[dict] = []
        self.dir.mkdir(parents=True, exist_ok=True)
        # the index goes first (dataset.json before all: it marks a finished split), so a kill while
        # the new shards are written never leaves an old index beside partial shards
        for stale in [*(self.dir / n for n in INDEX_FILES), *self.dir.glob(f"{self.split}-*.tar")]:
            stale.unlink(missing_ok=True)
        self.rows: list[dict] = []
        self.rejects: list[Reject] = []
        self.shards: list[str] = []
        self._buf: list[tuple[str, bytes, bytes]] = []
        self._keys: set[str] = set()

    def write(self, sample: Sample) -> None:
        self.write_encoded(encode_sample(sample, self.labels_apart))

    def write_encoded(self, enc: EncodedSample) -> None:
        key = enc.key
        if key in self._keys:
            raise PipelineError(f"{self.dir}: duplicate sample key {key!r}")
        if enc.labels is not None and not self.labels_apart:
            raise PipelineError(f"{self.dir}: sample {key!r} was encoded with its labels apart, "
                                f"but this split keeps labels in the shards")
        self._keys.add(key)  # checked by write_shard, before anything is renamed into place
        self._buf.append((key, enc.png, enc.meta_json))
        self.rows.append({"key": key, "shard": shard_name(self.split, len(self.shards)), **enc.fields})
        if enc.labels is not None:
            self.label_rows.append({"key": key, **enc.labels})
        if len(self._buf) >= self.shard_size:
            self._flush()

    def reject(self, source: str, reason: str) -> None:
        self.rejects.append(Reject(str(source), reason, self.split))

    def _flush(self) -> None:
        if self._buf:
            name = shard_name(self.split, len(self.shards))
            write_shard(self.dir / name, self._buf)
            self.shards.append(name)
            self._buf = []

    @property
    def counts(self) -> dict:
        n_out, n_rej = len(self.rows), len(self.rejects)
        return {"in": n_out + n_rej, "written": n_out, "rejected": n_rej}

    def close(self) -> dict:
        self._flush()
        write_index(self.dir, self.rows, self.counts, self.shards, self.info, self.rejects)
        return self.counts

    def check_rejects(self, max_fraction: float) -> None:
        check_rejects(self.dir, self.counts, self.rejects, max_fraction)

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()


def check_rejects(where: Path, counts: dict, rejects: list[Reject], max_fraction: float) -> None:
    """Fail when more than `max_fraction` of the records were rejected, naming the worst files."""
    if counts["in"] == 0:
        raise RejectionError(f"{where}: no input records at all (empty or missing input folder?)")
    frac = counts["rejected"] / counts["in"]
    if frac > max_fraction:
        worst = Counter(r.source for r in rejects).most_common(5)
        reasons = {r.source: r.reason for r in rejects}
        lines = "\n".join(f"  {src} ({n}x): {reasons[src]}" for src, n in worst)
        raise RejectionError(f"{where}: rejected {counts['rejected']}/{counts['in']} records "
                             f"({frac:.1%} > max_reject_fraction {max_fraction:.1%}); worst files:\n{lines}")


# ---------------------------------------------------------------- reading
def list_shards(src: str | Path | Iterable) -> list[str]:
    """Shard paths of a split directory (sorted), or the given list of shard paths."""
    if isinstance(src, (str, Path)):
        p = Path(src)
        if p.is_file():
            return [str(p)]
        if not p.is_dir():
            raise PipelineError(f"{p}: no such split directory (run the ingest stage first?)")
        shards = sorted(str(s) for s in p.glob(f"{p.name}-*.tar"))
        if not shards:
            raise PipelineError(f"{p}: no shards ({p.name}-NNNNNN.tar) in this directory")
        return shards
    return [str(s) for s in src]


def decode_sample(raw: dict) -> Sample:
    """Decode one tar-grouped sample: PNG and JSON only (never pickle), names validated."""
    key, url = raw.get("__key__", ""), raw.get("__url__", "?")
    members = sorted(k for k in raw if not k.startswith("__"))
    if not KEY_RE.match(key) or members != sorted(MEMBERS):
        raise PipelineError(f"{url}: bad sample {key!r} with members {members} "
                            f"(expected key [A-Za-z0-9_-]+ with {', '.join(MEMBERS)})")
    image = cv2.imdecode(np.frombuffer(raw["image.png"], np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 2:
        raise PipelineError(f"{url}: sample {key}: image.png is not a decodable grey/depth PNG")
    try:
        meta = json.loads(raw["meta.json"])
    except ValueError as e:
        raise PipelineError(f"{url}: sample {key}: meta.json is not valid JSON ({e})") from None
    return Sample(key, image, meta)


def read_samples(src, *, shuffle: bool = False, seed: int = 0, shuffle_buffer: int = 1000,
                 epoch: int = 0, by_node: bool = True) -> "wds.DataPipeline":
    """A WebDataset pipeline of decoded `Sample`s.

    Shards are split across DDP ranks (by_node) and DataLoader workers. With `shuffle`, the
    shard order and a sample buffer are shuffled from `seed + epoch`, and the epoch advances
    each time the pipeline is iterated again, so every pass has a new, reproducible order.
    """
    import webdataset as wds  # late: it imports torch, which ingest workers do not need

    urls = list_shards(src)
    stages: list = [wds.SimpleShardList(urls)]
    if shuffle:
        stages.append(wds.detshuffle(bufsize=max(len(urls), 1), initial=len(urls), seed=seed, epoch=epoch - 1))
    if by_node:
        stages.append(wds.split_by_node)
    stages += [wds.split_by_worker, wds.tarfile_to_samples()]
    if shuffle:
        stages.append(wds.detshuffle(bufsize=shuffle_buffer, initial=min(100, shuffle_buffer),
                                     seed=seed + 1, epoch=epoch - 1))
    stages.append(wds.map(decode_sample))
    return wds.DataPipeline(*stages)


def iter_shard(path: str | Path) -> Iterator[Sample]:
    """Samples of one shard in stored order (no splitting): for per-shard work like refine."""
    return iter(read_samples([str(path)], by_node=False))


def read_manifest(split_dir: str | Path):
    path = Path(split_dir) / "manifest.parquet"
    if not path.exists():
        raise PipelineError(f"{path}: missing (was the split written by pipeline.shards?)")
    return pq.read_table(path)


def read_dataset_info(split_dir: str | Path) -> dict:
    path = Path(split_dir) / "dataset.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise PipelineError(f"{path}: missing (was the split written by pipeline.shards?)") from None
