"""ingest@<domain>: raw files -> WebDataset shards (synthetic, real_train, real_test).

Reads the embedded default's files, or the real dataset folders that simulate@<domain>
pointed at, with the same readers. Writes data/shards/<domain>/<split>/ and the oracle
labels of the real training split apart in data/labels/<domain>/real_train.parquet.
Rejected records are listed in each split's rejected.jsonl; the stage fails when more
than `ingest.max_reject_fraction` of a split was rejected.
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.stagecli import stage_main


def raw_dirs(domain_raw: Path) -> tuple[Path, Path]:
    """(synthetic, real) input folders: generated ones, or the real datasets' (source.json)."""
    src = domain_raw / "source.json"
    if src.exists():
        s = json.loads(src.read_text())
        return Path(s["synthetic"]["path"]), Path(s["real"]["path"])
    return domain_raw / "synthetic", domain_raw / "real"


def run(args, params) -> None:
    synthetic, real = raw_dirs(Path("data/raw") / args.domain)
    if args.domain == "eyes":
        from pipeline.ingest_eyes import ingest as ingest_domain
    else:
        from pipeline.ingest_hands import ingest as ingest_domain
    counts = ingest_domain(params, synthetic, real, Path("data"))
    print(json.dumps({args.domain: counts}))


if __name__ == "__main__":
    stage_main(__doc__, run)
