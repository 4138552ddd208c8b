"""The DVC pipeline as a graph of stage names, read from `dvc dag --dot` (DVC stays the one
source of the DAG: dvc.yaml with its foreach/matrix expansion).

Stage names read `name@item` with item `<domain>` or `<domain>-<variant>` (e.g.
`train_estimator@eyes-refined`); stages without a domain (`report`) join the others.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from graphlib import TopologicalSorter

from pipeline.params import DOMAINS

_NODE = re.compile(r'^"([^"]+)";$')
_EDGE = re.compile(r'^"([^"]+)" -> "([^"]+)";$')


@dataclass(frozen=True)
class Dag:
    stages: tuple[str, ...]                 # in dvc.yaml order
    upstream: dict[str, frozenset[str]]     # stage -> the stages it reads outputs of


def parse_dot(dot: str) -> Dag:
    """Parse `dvc dag --dot` output (edges point from producer to consumer)."""
    stages: list[str] = []
    upstream: dict[str, set[str]] = {}
    for line in dot.splitlines():
        line = line.strip()
        if m := _NODE.match(line):
            stages.append(m[1])
            upstream.setdefault(m[1], set())
        elif m := _EDGE.match(line):
            upstream.setdefault(m[2], set()).add(m[1])
    return Dag(tuple(stages), {s: frozenset(upstream.get(s, ())) for s in stages})


def stage_domain(stage: str) -> str | None:
    """`refine@eyes` -> "eyes", `evaluate@hands-real_train` -> "hands", `report` -> None."""
    _, at, item = stage.partition("@")
    domain = item.split("-", 1)[0] if at else None
    return domain if domain in DOMAINS else None


def select(dag: Dag, domains: list[str] | tuple[str, ...]) -> Dag:
    """The sub-DAG for `domains`: their stages, plus domain-less stages whose whole
    upstream is selected (the report runs only when every domain it reads runs)."""
    unknown = set(domains) - set(DOMAINS)
    if unknown:
        raise ValueError(f"unknown domain(s) {sorted(unknown)}; expected some of {list(DOMAINS)}")
    keep: set[str] = set()
    for stage in topological_order(dag):
        d = stage_domain(stage)
        if d in domains or (d is None and dag.upstream[stage] <= keep):
            keep.add(stage)
    return Dag(tuple(s for s in dag.stages if s in keep),
               {s: dag.upstream[s] & keep for s in dag.stages if s in keep})


def topological_order(dag: Dag) -> list[str]:
    """Producers before consumers; ties keep dvc.yaml order (simulate@eyes before simulate@hands)."""
    rank = {s: i for i, s in enumerate(dag.stages)}
    sorter = TopologicalSorter({s: dag.upstream[s] for s in dag.stages})
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=rank.__getitem__)
        order.extend(ready)
        sorter.done(*ready)
    return order


def downstream(dag: Dag, stages: set[str]) -> set[str]:
    """`stages` and everything that (transitively) reads their outputs."""
    out = set(stages)
    for s in topological_order(dag):
        if dag.upstream[s] & out:
            out.add(s)
    return out


def chain_lengths(dag: Dag) -> dict[str, int]:
    """Stages on the longest chain from each stage to the end of the DAG (itself included):
    the scheduling priority, so the critical path (refine -> estimator on refined -> ...) goes first."""
    consumers: dict[str, list[str]] = {s: [] for s in dag.stages}
    for s in dag.stages:
        for u in dag.upstream[s]:
            consumers[u].append(s)
    length: dict[str, int] = {}
    for s in reversed(topological_order(dag)):
        length[s] = 1 + max((length[c] for c in consumers[s]), default=0)
    return length


def ready(dag: Dag, done: set[str], started: set[str]) -> list[str]:
    """Stages not started whose upstream stages are all done, critical path first."""
    priority, rank = chain_lengths(dag), {s: i for i, s in enumerate(dag.stages)}
    runnable = [s for s in dag.stages if s not in started and dag.upstream[s] <= done]
    return sorted(runnable, key=lambda s: (-priority[s], rank[s]))
