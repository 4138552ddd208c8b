import io
import json
import tarfile

import numpy as np
import pytest

from pipeline.errors import PipelineError, RejectionError
from pipeline.shards import (Sample, ShardWriter, encode_sample, iter_shard, list_shards, read_dataset_info,
                             read_manifest, read_samples, write_shard)


def make_samples(n, dtype=np.uint8, split="synthetic"):
    rng = np.random.default_rng(0)
    hi = 255 if dtype == np.uint8 else 4000
    return [Sample(f"s{i:05d}", rng.integers(0, hi, (35, 55)).astype(dtype),
                   {"id": f"s{i:05d}", "split": split, "source": f"raw/{i}.jpg",
                    "labels": {"gaze": {"pitch": 0.1 * i, "yaw": -0.1}}}) for i in range(n)]


def write_split(d, samples, shard_size=4, rejects=()):
    with ShardWriter(d, shard_size, info={"params": {"a": 1}}) as w:
        for s in samples:
            w.write(s)
        for src, why in rejects:
            w.reject(src, why)
    return w


def test_roundtrip_index_and_counts(tmp_path):
    d = tmp_path / "synthetic"
    samples = make_samples(10)
    write_split(d, samples, rejects=[("raw/bad.jpg", "truncated jpeg")])
    assert [p.rsplit("/", 1)[1] for p in list_shards(d)] == [f"synthetic-00000{i}.tar" for i in range(3)]
    got = list(read_samples(d))
    assert [s.key for s in got] == [s.key for s in samples]
    assert all(np.array_equal(a.image, b.image) and a.meta == b.meta for a, b in zip(got, samples))
    info = read_dataset_info(d)
    assert info["counts"] == {"in": 11, "written": 10, "rejected": 1}
    assert json.loads((d / "rejected.jsonl").read_text()) == {"file": "raw/bad.jpg", "reason": "truncated jpeg"}
    m = read_manifest(d).to_pylist()
    assert m[5]["key"] == "s00005" and m[5]["shard"] == "synthetic-000001.tar"
    assert m[5]["labels_gaze_pitch"] == pytest.approx(0.5)


def test_uint16_depth_survives(tmp_path):
    samples = make_samples(3, np.uint16)
    write_split(tmp_path / "real_test", samples)
    got = list(read_samples(tmp_path / "real_test"))
    assert got[0].image.dtype == np.uint16 and np.array_equal(got[2].image, samples[2].image)


def test_deterministic_bytes_and_tar_headers(tmp_path):
    write_split(tmp_path / "a" / "synthetic", make_samples(6))
    write_split(tmp_path / "b" / "synthetic", make_samples(6))
    for name in ["synthetic-000000.tar", "synthetic-000001.tar", "manifest.parquet", "dataset.json"]:
        assert (tmp_path / "a" / "synthetic" / name).read_bytes() == (tmp_path / "b" / "synthetic" / name).read_bytes()
    with tarfile.open(tmp_path / "a" / "synthetic" / "synthetic-000000.tar") as tf:
        assert {m.mtime for m in tf.getmembers()} == {0}
        assert {(m.uid, m.gid) for m in tf.getmembers()} == {(0, 0)}
    assert not list((tmp_path / "a" / "synthetic").glob(".*tmp"))


def test_keys_with_dots_are_refused(tmp_path):
    with pytest.raises(PipelineError, match="invalid sample key"):
        with ShardWriter(tmp_path / "x") as w:
            w.write(Sample("a.b", np.zeros((2, 2), np.uint8), {}))


def test_seeded_shuffle_changes_per_epoch_and_repeats_per_seed(tmp_path):
    write_split(tmp_path / "synthetic", make_samples(40), shard_size=5)
    ds = read_samples(tmp_path / "synthetic", shuffle=True, seed=1, shuffle_buffer=16)
    e0, e1 = [s.key for s in ds], [s.key for s in ds]
    assert sorted(e0) == sorted(e1) and e0 != e1
    again = [s.key for s in read_samples(tmp_path / "synthetic", shuffle=True, seed=1, shuffle_buffer=16)]
    assert again == e0


def test_hostile_member_names_and_pickles_are_refused(tmp_path):
    bad = tmp_path / "synthetic" / "synthetic-000000.tar"
    bad.parent.mkdir()
    with tarfile.open(bad, "w") as tf:
        for name, data in [("../evil.image.png", b"x"), ("../evil.pyd", b"cos\nsystem\n")]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    with pytest.raises(PipelineError, match="bad sample"):
        list(iter_shard(bad))


def test_reject_fraction_names_worst_files(tmp_path):
    w = write_split(tmp_path / "synthetic", make_samples(2),
                    rejects=[("p01/day01.mat", "wrong shape")] * 3 + [("x.jpg", "corrupt")])
    with pytest.raises(RejectionError, match=r"(?s)rejected 4/6.*p01/day01\.mat \(3x\): wrong shape"):
        w.check_rejects(0.5)
    w.check_rejects(0.7)


def test_missing_split_is_a_clear_error(tmp_path):
    with pytest.raises(PipelineError, match="no such split directory"):
        list_shards(tmp_path / "nothing")


def test_shard_bytes_equal_tarfiles_own_output(tmp_path):
    """write_shard builds headers from a template for speed; the bytes must be tarfile's."""
    rng = np.random.default_rng(1)
    members = [(f"k{i}_{'x' * int(rng.integers(0, 60))}", rng.bytes(int(rng.integers(0, 3000))),
                rng.bytes(int(rng.integers(0, 1100)))) for i in range(23)]
    for n in (0, 1, 23):
        ref = tmp_path / f"ref{n}.tar"
        with tarfile.open(ref, "w", format=tarfile.USTAR_FORMAT) as tf:
            for key, png, meta in members[:n]:
                for name, data in ((f"{key}.image.png", png), (f"{key}.meta.json", meta)):
                    ti = tarfile.TarInfo(name)
                    ti.size, ti.mtime, ti.mode, ti.uname, ti.gname = len(data), 0, 0o644, "", ""
                    tf.addfile(ti, io.BytesIO(data))
        write_shard(tmp_path / f"ours{n}.tar", members[:n])
        assert (tmp_path / f"ours{n}.tar").read_bytes() == ref.read_bytes()
    with pytest.raises(PipelineError, match="USTAR"):
        write_shard(tmp_path / "long.tar", [("k" * 100, b"", b"")])


def test_labels_apart_leave_the_shards_and_the_manifest(tmp_path):
    d = tmp_path / "real_train"
    samples = make_samples(5, split="real_train")
    with ShardWriter(d, 4, labels_apart=True) as w:
        for s in samples:
            w.write(s)
    assert all("labels" not in s.meta for s in read_samples(d))
    assert not any(c.startswith("labels") for c in read_manifest(d).column_names)
    assert [r["key"] for r in w.label_rows] == [s.key for s in samples]
    assert w.label_rows[3]["labels_gaze_pitch"] == pytest.approx(0.3)
    with ShardWriter(tmp_path / "synthetic", 4) as plain, pytest.raises(PipelineError, match="labels apart"):
        plain.write_encoded(encode_sample(samples[0], labels_apart=True))


def test_a_rewritten_split_has_no_index_until_it_is_finished(tmp_path):
    """Ingest's writer drops the old index before the first new shard and writes dataset.json last:
    a kill in between leaves shards without an index (unfinished), never an old index beside them."""
    split = tmp_path / "synthetic"
    with ShardWriter(split, shard_size=2) as w:
        for i in range(4):
            w.write(Sample(f"a-{i}", np.zeros((4, 4), np.uint8), {"i": i}))
    assert (split / "dataset.json").exists() and (split / "manifest.parquet").exists()
    w = ShardWriter(split, shard_size=2)  # a rerun ...
    for i in range(3):
        w.write(Sample(f"b-{i}", np.zeros((4, 4), np.uint8), {"i": i}))
    # ... killed here: one new shard written, no index at all
    assert sorted(p.name for p in split.iterdir()) == ["synthetic-000000.tar"]
    w.close()
    index = split / "dataset.json"
    assert all(index.stat().st_mtime_ns >= p.stat().st_mtime_ns for p in split.iterdir())
    assert json.loads(index.read_text())["counts"]["written"] == 3
