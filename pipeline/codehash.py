"""The code a stage runs, found by following its imports, and a hash of it.

`import_closure("stages.refine")` is every file of this repository that `python -m stages.refine`
can import (top-level and function-level imports; `importlib.import_module(f"pkg.{...}")` counts
as the whole package `pkg`). tests/test_dvc_deps.py checks dvc.yaml's deps against it, and the
resumable stages put `code_hash` of it in their resume fingerprints, so output written by other code
is never reused.
"""
from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "stages", "flows")


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The repo file of module `name` (a module or a package's __init__.py), or None outside the repo."""
    if name.split(".")[0] not in PACKAGES:
        return None
    base = root.joinpath(*name.split("."))
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def with_parents(name: str) -> list[str]:
    """`a.b.c` -> [a, a.b, a.b.c]: importing a module runs its packages' __init__.py first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def dynamic_package(call: ast.Call) -> str | None:
    """`pkg.*` for `importlib.import_module(f"pkg.{...}")`, the name for a constant argument."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name != "import_module" or not call.args:
        return None
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    first = arg.values[0] if isinstance(arg, ast.JoinedStr) else arg.left if isinstance(arg, ast.BinOp) else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value.rstrip(".") + ".*"
    raise ValueError(f"import_module with an argument the dependency walk cannot read: {ast.unparse(call)}")


def imports_of(path: Path, root: Path = ROOT) -> set[str]:
    """Module names `path` imports (absolute; relative imports resolved; `pkg.*` for a whole package)."""
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package[:len(package) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # `from pkg import submodule`
        elif isinstance(node, ast.Call) and (pkg := dynamic_package(node)):
            out.add(pkg)
    return out


def import_closure(module: str, root: Path = ROOT) -> set[Path]:
    """Repo files reached from `module` by imports."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        files: list[Path] = []
        if name.endswith(".*"):
            name = name[:-2]
            files = sorted(root.joinpath(*name.split(".")).rglob("*.py"))
        files += [f for n in with_parents(name) if (f := module_file(n, root))]
        for f in files:
            if f not in seen:
                seen.add(f)
                todo.extend(imports_of(f, root))
    return seen


def tree_hash(module: str, root: Path = ROOT) -> str:
    """sha256 over the path and bytes of every file in `module`'s import closure under `root`."""
    h = hashlib.sha256()
    for f in sorted(import_closure(module, root)):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


@functools.cache
def code_hash(module: str) -> str:
    """tree_hash of the code this process runs (read once per process)."""
    return tree_hash(module)
