"""The user study without a browser: draw, store, stats, rendering, HTTP validation, export."""
from __future__ import annotations

import math
import re
import sqlite3
import threading

import httpx
import numpy as np
import pytest
from scipy.stats import binomtest

from pipeline.errors import PipelineError
from pipeline.params import Params
from pipeline.study import LABELS, stats, store
from pipeline.study.config import load_study
from pipeline.study.demo import write_demo_shards
from pipeline.study.draw import draw
from pipeline.study.images import render
from pipeline.study.server import create_app, running

KEYS = {"real": [f"r{i}" for i in range(20)], "synthetic": [f"s{i}" for i in range(20)]}


def test_draw_is_fair_seeded_and_does_not_repeat():
    labels = [draw(KEYS, set(), 0, f"p{i}", 0)[0] for i in range(4000)]
    assert 0.47 < labels.count("real") / 4000 < 0.53
    assert draw(KEYS, set(), 0, "ann", 3) == draw(KEYS, set(), 0, "ann", 3)
    shown: set = set()
    for seq in range(30):  # 30 draws from 2 x 20 keys: no image twice
        pick = draw(KEYS, shown, 0, "ann", seq)
        assert pick not in shown
        shown.add(pick)


def test_summary_matches_a_direct_computation():
    rng = np.random.default_rng(1)
    rows = [{"participant": f"p{rng.integers(3)}", "truth": LABELS[rng.integers(2)],
             "answer": LABELS[rng.integers(2)]} for _ in range(57)]
    s = stats.summarize(rows)
    correct = sum(r["truth"] == r["answer"] for r in rows)
    assert (s.overall.n, s.overall.correct) == (57, correct)
    assert s.overall.p_value == pytest.approx(binomtest(correct, 57, 0.5).pvalue)
    assert sum(c for row in s.confusion.values() for c in row.values()) == 57
    assert s.confusion["real"]["synthetic"] == sum(r["truth"] == "real" != r["answer"] for r in rows)
    assert sum(p.n for p in s.per_participant.values()) == 57
    assert np.isnan(stats.summarize([]).overall.accuracy)


def test_paper_reference_two_sided_vs_reported():
    paper = stats.summarize([]).paper
    assert paper.accuracy == 0.517 and paper.p_value == pytest.approx(0.2967, abs=1e-4)
    # the paper's p = 0.148 is the one-sided test
    assert binomtest(517, 1000, alternative="greater").pvalue == pytest.approx(0.148, abs=5e-4)


@pytest.fixture
def cfg(tmp_path):
    dirs = write_demo_shards(tmp_path / "shards", "eyes", n=10)
    return load_study("eyes", Params(), dirs["real"], dirs["synthetic"], tmp_path / "eyes.db", n_trials=4)


def choose(seq, shown):
    return draw(KEYS, shown, 0, "ann", seq)


def test_store_accepts_each_trial_once(cfg):
    t = store.current_trial(cfg.db, "ann", 2, choose)
    assert store.current_trial(cfg.db, "ann", 2, choose) == t  # reload: same open trial
    with pytest.raises(store.UnknownTrial):
        store.record_answer(cfg.db, "A" * 22, "real", 10)
    errors = []

    def answer():
        try:
            store.record_answer(cfg.db, t.trial_id, "real", 10)
        except store.AnsweredTrial as e:
            errors.append(e)
    threads = [threading.Thread(target=answer) for _ in range(6)]  # racing double clicks
    [th.start() for th in threads]
    [th.join() for th in threads]
    assert len(errors) == 5 and store.progress(cfg.db, "ann") == 1
    t2 = store.current_trial(cfg.db, "ann", 2, choose)
    assert t2.seq == 1 and t2.trial_id != t.trial_id
    store.record_answer(cfg.db, t2.trial_id, "synthetic", None)
    assert store.current_trial(cfg.db, "ann", 2, choose) is None  # session complete
    rows = store.read_answers(cfg.db)
    assert [(r["key"], r["truth"], r["answer"]) for r in rows] == [(t.key, t.truth, "real"), (t2.key, t2.truth, "synthetic")]
    assert rows[1]["response_ms"] >= 0


def test_database_refuses_another_dataset_version(cfg, tmp_path):
    other = write_demo_shards(tmp_path / "other", "eyes", n=12, seed=5)
    with pytest.raises(PipelineError, match="holds answers for other images"):
        load_study("eyes", Params(), other["real"], other["synthetic"], cfg.db)


def test_render_is_an_integer_upscale_without_metadata(cfg):
    sample = cfg.pools["real"].sample(cfg.pools["real"].keys[0])
    shown = render("eyes", sample.image, sample.meta, 440)
    assert shown.shape == (280, 440)
    np.testing.assert_array_equal(shown, np.kron(sample.image, np.ones((8, 8), np.uint8)))


def png_chunks(png: bytes) -> list[str]:
    chunks, i = [], 8
    while i < len(png):
        n = int.from_bytes(png[i:i + 4], "big")
        chunks.append(png[i + 4:i + 8].decode())
        i += 12 + n
    return chunks


def test_http_validation_and_no_leaks(cfg):
    all_keys = [k for pool in cfg.pools.values() for k in pool.keys]
    with running(create_app(cfg)) as url, httpx.Client(base_url=url) as http:
        assert http.get("/trial", params={"participant": "<script>"}).status_code == 400
        page = http.get("/trial", params={"participant": "ann"})
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert not any(k in page.text for k in all_keys) and "refined" not in page.text
        tid = re.search(r'src="/image/([A-Za-z0-9_-]{22})"', page.text).group(1)
        png = http.get(f"/image/{tid}")
        assert png.headers["content-type"] == "image/png"
        assert set(png_chunks(png.content)) <= {"IHDR", "IDAT", "IEND"}
        assert http.get("/image/" + "B" * 22).status_code == 404
        assert http.get("/image/..%2Fdataset.json").status_code in (400, 404)
        post = lambda **form: http.post("/answer", data=form)  # noqa: E731
        assert post(trial_id=tid, answer="maybe").status_code == 400
        assert post(trial_id=tid, answer="real", response_ms="-5").status_code == 400
        assert post(trial_id="../../etc", answer="real").status_code == 400
        forged = post(trial_id="C" * 22, answer="real")
        assert forged.status_code == 404 and "unknown trial id" in forged.text
        assert http.post("/answer", json={"trial_id": tid, "answer": "real"}).status_code == 415
        assert post(trial_id=tid, answer="real").status_code == 303
        replay = post(trial_id=tid, answer="synthetic")
        assert replay.status_code == 409 and "already answered" in replay.text
        assert http.get("/results", headers={"host": "evil.example"}).status_code == 400
        csv_lines = http.get("/results.csv").text.splitlines()
    assert csv_lines[0].startswith("participant,key,truth,answer") and len(csv_lines) == 2
    assert sqlite3.connect(cfg.db).execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 1


def test_hands_depth_is_shown_near_bright_on_black(tmp_path):
    dirs = write_demo_shards(tmp_path, "hands", n=2)
    cfg = load_study("hands", Params(), dirs["real"], dirs["synthetic"], tmp_path / "hands.db")
    for pool in cfg.pools.values():  # one rendering for both classes
        sample = pool.sample(pool.keys[0])
        shown = render("hands", sample.image, sample.meta, 440)
        assert shown.shape == (384, 384, 3)
        far = math.ceil(sample.meta["crop"]["center_uvd"][2] + sample.meta["crop"]["cube_mm"] / 2)
        hand = np.kron(sample.image < far, np.ones((6, 6), bool))
        assert shown[hand].mean() > 4 * shown[~hand].mean()
