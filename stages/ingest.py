"""ingest@<domain>: raw files -> WebDataset shards (synthetic, real_train, real_holdout, real_val, real_test).

Reads the embedded default's files, or the real dataset folders that simulate@<domain>
pointed at, with the same readers. Writes data/shards/<domain>/<split>/ and the oracle
labels of real_train and real_holdout apart in data/labels/<domain>/<split>.parquet
(the splits: pipeline/ingest/splits.py).
Rejected records are listed in each split's rejected.jsonl; the stage fails when more
than `ingest.max_reject_fraction` of a split was rejected.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

from pipeline.raw_source import generated_dir, raw_dirs
from pipeline.stagecli import stage_main


def run(args, params) -> None:
    synthetic, real = raw_dirs(generated_dir(args.domain))
    ingest = importlib.import_module(f"pipeline.ingest.{args.domain}").ingest
    counts = ingest(params, synthetic, real, Path("data"))
    print(json.dumps({args.domain: counts}, default=str))


if __name__ == "__main__":
    stage_main(__doc__, run)
