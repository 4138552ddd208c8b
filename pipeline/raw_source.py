"""Where a domain's raw input lives, and the rule that keeps a user's dataset safe.

`simulate@<domain>` owns exactly one folder, data/raw/<domain>/generated/ (its DVC output, which
DVC itself empties before each run): the embedded default's generated `synthetic/` and `real/`
folders, or, with `<domain>.simulate.source: folders`, a `source.json` that records where the
real dataset folders are (with a fingerprint of their files, so DVC notices when one changes).
A dataset may sit anywhere else, data/raw/<domain>/mpiigaze/ included: nothing deletes it.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipeline import paths
from pipeline.errors import PipelineError
from pipeline.files import write_json
from pipeline.params import ParamsError

RAW = Path("data/raw")
GENERATED = "generated"  # the one folder under data/raw/<domain>/ that simulate writes (and deletes)
SIDES = ("synthetic_dir", "real_dir")
# Everything the pipeline writes (relative to the repo root): a dataset must not lie in, or hold, any of it.
PIPELINE_OUTPUTS = (f"{RAW}/eyes/{GENERATED}", f"{RAW}/hands/{GENERATED}", "data/shards", "data/labels",
                    "models", "metrics", "plots", "reports", "checkpoints", ".dvc", "mlruns", "mlartifacts")


def generated_dir(domain: str, repo: Path = Path(".")) -> Path:
    """data/raw/<domain>/generated: simulate's own output folder."""
    return paths.raw(domain, repo)


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def check_folders(domain: str, sim, repo: Path = Path(".")) -> dict[str, Path]:
    """The resolved dataset folders of `<domain>.simulate` (source: folders), or a ParamsError
    naming the key: an empty path (it would read the current directory), a folder that does not
    exist, or one that overlaps what the pipeline writes (the stage would delete or read itself)."""
    repo = Path(repo).resolve()
    out = {}
    for key in SIDES:
        name = f"{domain}.simulate.{key}"
        value = str(getattr(sim, key) or "").strip()
        if not value:
            raise ParamsError(f"{name}: empty; with {domain}.simulate.source: folders it must name the "
                              f"dataset folder (see README, 'Run it on your own data')")
        path = (repo / Path(value).expanduser()).resolve()
        if _overlaps(path, repo):
            if path == repo or repo.is_relative_to(path):
                raise ParamsError(f"{name}: {value!r} is {path}, which holds this repository and its "
                                  "outputs; name the dataset folder itself")
            for rel in PIPELINE_OUTPUTS:
                if _overlaps(path, (repo / rel).resolve()):
                    raise ParamsError(f"{name}: {value!r} overlaps the pipeline's output {rel}/; "
                                      f"put the dataset elsewhere (e.g. data/raw/{domain}/<name>/)")
        if not path.exists():
            raise ParamsError(f"{name}: {value!r} does not exist ({path})")
        if not path.is_dir() and not (domain == "eyes" and path.suffix == ".h5" and path.is_file()):
            raise ParamsError(f"{name}: {value!r} is not a folder" + (" or an .h5 file" if domain == "eyes" else ""))
        out[key] = path
    return out


def fingerprint(path: Path) -> str:
    """Names, sizes and mtimes of every file (or of the one file): cheap, and changes when the dataset does."""
    path = Path(path)
    if not path.exists():
        raise PipelineError(f"{path}: dataset folder does not exist (check <domain>.simulate in params.yaml)")
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    h = hashlib.sha256()
    for p in files:
        st = p.stat()
        h.update(f"{p.relative_to(path) if p != path else p.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


folder_fingerprint = fingerprint  # the older name


def point_at_folders(out_dir: Path, folders: dict[str, Path]) -> dict:
    """Write out_dir/source.json: where the datasets are and their fingerprints (checked folders)."""
    src = {key.removesuffix("_dir"): {"path": str(p), "fingerprint": fingerprint(p)} for key, p in folders.items()}
    write_json(Path(out_dir) / "source.json", src)
    return src


def raw_dirs(raw_root: Path) -> tuple[Path, Path]:
    """(synthetic, real) input folders recorded in simulate's output folder `raw_root`."""
    src = Path(raw_root) / "source.json"
    if src.exists():
        s = json.loads(src.read_text())
        return Path(s["synthetic"]["path"]), Path(s["real"]["path"])
    return Path(raw_root) / "synthetic", Path(raw_root) / "real"
