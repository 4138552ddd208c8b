"""The study in a real browser (Debian's headless Chromium through Playwright): a session with a
reload, a double click, a keyboard answer, a replayed and a forged POST stores exactly N answers,
and the results page shows the accuracy and p-value computed directly from the database."""
from __future__ import annotations

import sqlite3

import pytest
from scipy.stats import binomtest

from pipeline.params import Params
from pipeline.study.browser import CHROMIUM, answer, chromium_page, progress, start_session, trial_id
from pipeline.study.config import load_study
from pipeline.study.demo import write_demo_shards
from pipeline.study.server import create_app, running

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} absent: install Debian's browser "
                                "with `apt-get install -y --no-install-recommends chromium`")
N = 6


def test_browser_session_stores_exactly_n_answers(tmp_path):
    dirs = write_demo_shards(tmp_path / "shards", "eyes", n=12)
    cfg = load_study("eyes", Params(), dirs["real"], dirs["synthetic"], tmp_path / "eyes.db", n_trials=N)
    keys = {label: set(pool.keys) for label, pool in cfg.pools.items()}
    given = {}
    with running(create_app(cfg)) as url, chromium_page() as page:
        start_session(page, url, "ann")
        assert progress(page) == f"Trial 1 of {N}"
        t = trial_id(page)
        assert not any(k in page.content() for ks in keys.values() for k in ks)
        answer(page, "real")
        given[t] = "real"

        t = trial_id(page)
        page.reload()  # mid-session reload: the same trial, nothing stored
        assert trial_id(page) == t and progress(page) == f"Trial 2 of {N}"
        page.screenshot(path=tmp_path / "study-trial.png")
        answer(page, "synthetic")
        given[t] = "synthetic"

        t = trial_id(page)
        answer(page, "real", double_click=True)
        given[t] = "real"
        assert progress(page) == f"Trial 4 of {N}"  # two clicks, one answer

        t = trial_id(page)
        with page.expect_navigation():
            page.keyboard.press("s")
        given[t] = "synthetic"
        replay = page.request.post(f"{url}/answer", form={"trial_id": t, "answer": "real"})
        assert replay.status == 409 and "already answered" in replay.text()
        forged = page.request.post(f"{url}/answer", form={"trial_id": "D" * 22, "answer": "real"})
        assert forged.status == 404 and "unknown trial id" in forged.text()

        while page.query_selector("#stimulus"):
            given[trial_id(page)] = "real"
            answer(page, "real")
        assert progress(page) == f"{N} of {N} answers recorded for ann."
        page.goto(f"{url}/trial?participant=ann")  # coming back after the end adds nothing
        assert "Thank you" in page.content()

        start_session(page, url, "bob")
        for _ in range(N):
            trial_id(page)
            answer(page, "synthetic")
        page.goto(f"{url}/results")
        page.screenshot(path=tmp_path / "study-results.png", full_page=True)
        shown = {name: page.get_attribute(f"#{name}", "data-value") for name in ("overall-accuracy", "p-value")}
        shown_n = int(page.inner_text("#overall-n"))

    rows = sqlite3.connect(cfg.db).execute("SELECT trial_id, participant, key, truth, answer FROM answers").fetchall()
    assert len(rows) == shown_n == 2 * N and len({r[0] for r in rows}) == 2 * N
    assert sorted(r[1] for r in rows) == ["ann"] * N + ["bob"] * N
    assert all(key in keys[truth] for _, _, key, truth, _ in rows)
    assert {r[0]: r[4] for r in rows if r[1] == "ann"} == given
    correct = sum(truth == ans for *_, truth, ans in rows)
    assert float(shown["overall-accuracy"]) == correct / (2 * N)
    assert float(shown["p-value"]) == binomtest(correct, 2 * N, 0.5).pvalue
    assert (tmp_path / "study-trial.png").stat().st_size > 1000 and (tmp_path / "study-results.png").exists()
