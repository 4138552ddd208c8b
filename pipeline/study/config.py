"""What one study is about: the domain, the two image pools, the session length and the
database, with the data versions of both splits recorded so answers about one refined dataset
version never mix with another's."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.params import DOMAINS, Params, ParamsError
from pipeline.study.images import ImagePool, open_pool
from pipeline.study.store import open_db
from pipeline.tracking import data_version

SHARDS = Path("data/shards")
STATE = Path(".state/study")


@dataclass(frozen=True)
class StudyConfig:
    domain: str
    db: Path
    pools: dict[str, ImagePool]  # "real" / "synthetic" -> pool
    n_trials: int
    seed: int
    display_px: int
    info: dict[str, str]         # split names and data versions (stored in and checked against the db)


def default_db(domain: str) -> Path:
    return STATE / f"{domain}.db"


def load_study(domain: str, params: Params, real_dir: Path | None = None, refined_dir: Path | None = None,
               db: Path | None = None, n_trials: int | None = None) -> StudyConfig:
    if domain not in DOMAINS:
        raise ParamsError(f"unknown domain {domain!r}; expected one of {', '.join(DOMAINS)}")
    real_dir = Path(real_dir or SHARDS / domain / params.study.real_split)
    refined_dir = Path(refined_dir or SHARDS / domain / "refined")
    pools = {"real": open_pool("real", real_dir), "synthetic": open_pool("synthetic", refined_dir)}
    info = {"domain": domain, "real_split": real_dir.name, "real_version": data_version(real_dir),
            "refined_version": data_version(refined_dir)}
    db = open_db(db or default_db(domain), info)
    return StudyConfig(domain, db, pools, n_trials or params.study.trials, params.seed,
                       params.study.display_px, info)
