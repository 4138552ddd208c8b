"""Study answers in sqlite (.state/study/<domain>.db), one row per answer.

The server issues a trial id (random, opaque) for the participant's next image and accepts one
answer for it: `answers.trial_id` is the primary key, so a reload, a double click or a replayed
request cannot add a second row, even when two requests race. Every call is its own committed
transaction, so nothing is lost if the server stops mid-session.
"""
from __future__ import annotations

import contextlib
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from pipeline.errors import PipelineError

TRIAL_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16)
SCHEMA = """
CREATE TABLE IF NOT EXISTS study (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
  trial_id TEXT PRIMARY KEY, participant TEXT NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL,
  truth TEXT NOT NULL CHECK (truth IN ('real', 'synthetic')), issued_at TEXT NOT NULL,
  UNIQUE (participant, seq));
CREATE TABLE IF NOT EXISTS answers (
  trial_id TEXT PRIMARY KEY REFERENCES trials (trial_id), participant TEXT NOT NULL,
  key TEXT NOT NULL, truth TEXT NOT NULL, answer TEXT NOT NULL CHECK (answer IN ('real', 'synthetic')),
  answered_at TEXT NOT NULL, response_ms INTEGER NOT NULL);
"""
ANSWER_COLUMNS = ("participant", "key", "truth", "answer", "answered_at", "response_ms", "trial_id")


class UnknownTrial(PipelineError):
    """A trial id this server never issued (forged, mistyped, or from another database)."""


class AnsweredTrial(PipelineError):
    """A second answer to a trial: reload, double click or replayed request."""


@dataclass(frozen=True)
class Trial:
    trial_id: str
    participant: str
    seq: int        # 0-based number of the trial in the participant's session
    key: str
    truth: str
    issued_at: str


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@contextlib.contextmanager
def transaction(db: Path):
    """BEGIN IMMEDIATE ... COMMIT: check-then-write steps run one at a time across threads."""
    con = sqlite3.connect(db, timeout=30, isolation_level=None)
    con.row_factory = sqlite3.Row
    try:
        con.execute("BEGIN IMMEDIATE")
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def open_db(db: str | Path, info: dict[str, str]) -> Path:
    """Create the database; refuse one that holds answers about other image sets (`info`)."""
    db = Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(SCHEMA)
    with transaction(db) as con:
        stored = dict(con.execute("SELECT name, value FROM study").fetchall())
        clash = {k: (stored[k], v) for k, v in info.items() if k in stored and stored[k] != v}
        if clash:
            raise PipelineError(f"{db}: holds answers for other images ({clash}, stored vs now); "
                                "pass another --db for this dataset version")
        con.executemany("INSERT OR IGNORE INTO study VALUES (?, ?)", info.items())
    return db


def _trial(row: sqlite3.Row) -> Trial:
    return Trial(*(row[f] for f in ("trial_id", "participant", "seq", "key", "truth", "issued_at")))


def count_answers(con: sqlite3.Connection, participant: str) -> int:
    return con.execute("SELECT COUNT(*) FROM answers WHERE participant = ?", (participant,)).fetchone()[0]


def current_trial(db: Path, participant: str, n_trials: int,
                  choose: Callable[[int, set[tuple[str, str]]], tuple[str, str]]) -> Trial | None:
    """The participant's open trial (the same one after a reload), a new one, or None when done."""
    with transaction(db) as con:
        row = con.execute("SELECT t.* FROM trials t LEFT JOIN answers a USING (trial_id) WHERE "
                          "t.participant = ? AND a.trial_id IS NULL", (participant,)).fetchone()
        if row is not None:
            return _trial(row)
        if count_answers(con, participant) >= n_trials:
            return None
        shown = con.execute("SELECT truth, key FROM trials WHERE participant = ?", (participant,))
        seq = con.execute("SELECT COUNT(*) FROM trials WHERE participant = ?", (participant,)).fetchone()[0]
        truth, key = choose(seq, {(t, k) for t, k in shown})
        trial = Trial(secrets.token_urlsafe(16), participant, seq, key, truth, now())
        con.execute("INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?)",
                    (trial.trial_id, participant, seq, key, truth, trial.issued_at))
        return trial


def get_trial(db: Path, trial_id: str) -> Trial:
    with transaction(db) as con:
        row = con.execute("SELECT * FROM trials WHERE trial_id = ?", (trial_id,)).fetchone()
    if row is None:
        raise UnknownTrial(f"unknown trial id {trial_id!r}: this server never issued it")
    return _trial(row)


def record_answer(db: Path, trial_id: str, answer: str, response_ms: int | None) -> Trial:
    """Store the one answer of `trial_id`; response_ms None -> time since the trial was issued."""
    trial = get_trial(db, trial_id)
    answered_at = now()
    if response_ms is None:
        elapsed = datetime.fromisoformat(answered_at) - datetime.fromisoformat(trial.issued_at)
        response_ms = round(elapsed.total_seconds() * 1000)
    try:
        with transaction(db) as con:
            con.execute("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (trial_id, trial.participant, trial.key, trial.truth, answer, answered_at, response_ms))
    except sqlite3.IntegrityError:
        raise AnsweredTrial(f"trial {trial_id} was already answered: the first answer stands") from None
    return trial


def progress(db: Path, participant: str) -> int:
    with transaction(db) as con:
        return count_answers(con, participant)


def read_answers(db: str | Path) -> list[dict]:
    """All answers in the order given, as dicts of ANSWER_COLUMNS."""
    if not Path(db).exists():
        raise PipelineError(f"{db}: no study database (run `study` and collect answers first)")
    with transaction(Path(db)) as con:
        rows = con.execute(f"SELECT {', '.join(ANSWER_COLUMNS)} FROM answers ORDER BY answered_at, rowid")
        return [dict(r) for r in rows]
