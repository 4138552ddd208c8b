"""metrics/*.json as tables: one per stage (train_refiner, refine, evaluate, realism), one
column per stage item (eyes, hands-refined, ...), one row per scalar metric.

Files are named `<stage>-<item>.json` by the stages; nested mappings are flattened to dotted keys.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from rich.table import Table


def flatten(doc: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flatten(value, f"{name}.")
        elif isinstance(value, (int, float, str, bool)) and not (isinstance(value, str) and len(value) > 40):
            out[name] = value
    return out


def fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def grouped(paths: list[Path]) -> dict[str, dict[str, dict[str, object]]]:
    """{stage: {item: {metric: value}}} from metrics files named <stage>-<item>.json."""
    groups: dict[str, dict[str, dict[str, object]]] = defaultdict(dict)
    for path in paths:
        stage, _, item = path.stem.partition("-")
        doc = json.loads(path.read_text())
        groups[stage][item or stage] = flatten(doc) if isinstance(doc, dict) else {"value": doc}
    return dict(groups)


def metrics_tables(paths: list[Path]) -> list[Table]:
    tables = []
    for stage, items in grouped(paths).items():
        table = Table(title=f"metrics/{stage}-*.json", title_justify="left")
        table.add_column("metric")
        for item in items:
            table.add_column(item, justify="right")
        keys = sorted({k for metrics in items.values() for k in metrics})
        for key in keys:
            table.add_row(key, *(fmt(metrics[key]) if key in metrics else "" for metrics in items.values()))
        tables.append(table)
    return tables
