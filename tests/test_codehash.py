"""code_hash: a stage's resume fingerprint changes with the code it imports, and only with that."""
import shutil
from pathlib import Path

from pipeline import codehash

ROOT = Path(__file__).resolve().parents[1]


def copy_code(dest: Path) -> Path:
    for pkg in codehash.PACKAGES:
        shutil.copytree(ROOT / pkg, dest / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_hash_follows_the_stage_s_imports_only(tmp_path):
    root = copy_code(tmp_path)
    before = codehash.tree_hash("stages.train_refiner", root)
    assert before == codehash.tree_hash("stages.train_refiner", root)
    (root / "pipeline/study/pages.py").write_text((root / "pipeline/study/pages.py").read_text() + "\n# edit\n")
    assert codehash.tree_hash("stages.train_refiner", root) == before  # not imported by train_refiner
    losses = root / "pipeline/simgan/losses.py"
    losses.write_text(losses.read_text().replace("def ", "def _unused():\n    pass\n\n\ndef ", 1))
    assert codehash.tree_hash("stages.train_refiner", root) != before




def test_a_checkpoint_of_other_code_is_not_resumed(monkeypatch, tmp_path):
    from pipeline.params import Params
    from pipeline.simgan import run
    from pipeline.simgan.checkpoint import load_checkpoint, params_hash
    from pipeline.files import save_torch

    params = Params()
    ident = params_hash(run.run_identity(params, "eyes", {}))
    save_torch({"params_hash": ident, "step": 3}, tmp_path / "ckpt.pt")
    assert load_checkpoint(tmp_path / "ckpt.pt", ident)["step"] == 3
    monkeypatch.setattr(run, "code_hash", lambda module: "other code")
    assert load_checkpoint(tmp_path / "ckpt.pt", params_hash(run.run_identity(params, "eyes", {}))) is None
