"""Params profiles: overlays in profiles/<name>.yaml merged over params.yaml.

DVC tracks parameters in params.yaml, so a profile (or a one-off override) takes effect by
being written there, exactly as `dvc exp run -S` does. The merge is validated against the
typed schema before anything is written: a bad key fails naming the profile file and key.
"""
from __future__ import annotations

import copy
import io
from pathlib import Path

import yaml

from pipeline.errors import PipelineError
from pipeline.params import Params, ParamsError, build, deep_merge, read_yaml_mapping

def profile_path(root: str | Path, name: str) -> Path:
    return Path(root) / "profiles" / f"{name}.yaml"


def available_profiles(root: str | Path) -> list[str]:
    return sorted(p.stem for p in (Path(root) / "profiles").glob("*.yaml"))


def dotted_to_nested(overrides: dict[str, object]) -> dict:
    """{"eyes.train_estimator.lr": 0.01} -> {"eyes": {"train_estimator": {"lr": 0.01}}}."""
    nested: dict = {}
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        node = nested
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return nested


def parse_assignments(assignments: list[str]) -> dict:
    """["eyes.train_estimator.lr=0.01", ...] -> nested overrides; values parsed as YAML scalars."""
    flat = {}
    for a in assignments:
        key, sep, raw = a.partition("=")
        if not sep or not key:
            raise PipelineError(f"override {a!r}: expected KEY=VALUE (e.g. eyes.train_estimator.lr=0.01)")
        flat[key.strip()] = yaml.safe_load(raw)
    return dotted_to_nested(flat)


def merged_params(base: dict, overlay: dict, source: str) -> dict:
    """Merge `overlay` over `base` and validate against the schema (errors name `source`)."""
    merged = deep_merge(base, overlay)
    try:
        build(Params, merged)
    except ParamsError as e:
        raise PipelineError(f"{source}: {e}") from None
    return merged


def _update(node, data: dict) -> None:
    """Set `data`'s values into the round-trip mapping `node`, key by key, so every key keeps its comment."""
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(node.get(key), dict):
            _update(node[key], value)
        elif node.get(key) != value:
            node[key] = copy.deepcopy(value)  # a copy each: no `&id001` anchors for a shared mapping


def write_params(params_file: Path, data: dict) -> None:
    """Rewrite params.yaml with `data`'s values, keeping its comments (ruamel's round trip: a value
    that changes keeps the one-line comment of its key; DVC itself reads the file with ruamel)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    rt = YAML()
    rt.width = 4096  # never fold a long line
    old = params_file.read_text() if params_file.exists() else ""
    doc = rt.load(old) if old.strip() else None
    doc = doc if doc is not None else CommentedMap()
    _update(doc, data)
    buf = io.StringIO()
    rt.dump(doc, buf)
    if old != buf.getvalue():  # an unchanged file keeps its mtime
        params_file.write_text(buf.getvalue())


def apply(root: str | Path, profile: str | None = None, overrides: dict | None = None) -> dict:
    """Write params.yaml = params.yaml <- profiles/<profile>.yaml <- overrides; return the merge."""
    root = Path(root)
    params_file = root / "params.yaml"
    data = read_yaml_mapping(params_file)
    if profile:
        path = profile_path(root, profile)
        if not path.exists():
            known = ", ".join(available_profiles(root)) or "none"
            raise PipelineError(f"{path}: no such profile (available: {known})")
        data = merged_params(data, read_yaml_mapping(path), str(path))
    if overrides:
        data = merged_params(data, overrides, "overrides")
    write_params(params_file, data)
    return data
