"""Another team reads a refined dataset version: real git + DVC, a local-path remote and a tag.

The producer refines, tags `eyes-v1` and pushes to the remote; then its workspace data and
cache are deleted and HEAD moves on without the data, so everything read afterwards comes
from the tag through the remote. The consumer imports the version with `dvc import --rev`
and reads it with `open_refined`; `dvc get` and `open_refined(repo=producer, rev=tag)` give
the same samples without any import.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from pipeline.api import open_refined
from pipeline.errors import PipelineError
from pipeline.shards import iter_shard, list_shards
from test_refine import folder_bytes, make_project, run_stage

pytestmark = pytest.mark.slow
DVC = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "dvc")
REFINED = "data/shards/eyes/refined"
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def sh(cwd: Path, *cmd: str) -> str:
    p = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    assert p.returncode == 0, f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}"
    return p.stdout


def new_repo(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    sh(path, "git", "init", "-q", "-b", "main")
    sh(path, DVC, "init", "-q")
    return path


@pytest.fixture
def producer(tmp_path):
    """A project with refined eyes data at tag eyes-v1 on a local remote, and none in its workspace."""
    repo = new_repo(tmp_path / "producer")
    _, data = make_project(repo, n=24, shard_size=8)
    run_stage(repo)
    published = folder_bytes(data / "refined")
    sh(repo, DVC, "add", "-q", REFINED)
    sh(repo, DVC, "remote", "add", "-d", "local", str(tmp_path / "remote"))
    sh(repo, "git", "add", ".dvc/config", "data/shards/eyes/.gitignore", f"{REFINED}.dvc")
    sh(repo, "git", "commit", "-q", "-m", "refined eyes v1")
    sh(repo, "git", "tag", "eyes-v1")
    sh(repo, DVC, "push", "-q")
    synthetic = [(s.key, s.meta["labels"]) for shard in list_shards(data / "synthetic") for s in iter_shard(shard)]
    sh(repo, "git", "rm", "-q", f"{REFINED}.dvc")
    sh(repo, "git", "commit", "-q", "-m", "moved on")
    shutil.rmtree(data / "refined")
    shutil.rmtree(repo / ".dvc" / "cache")
    return repo, published, synthetic


def test_consumer_imports_a_tagged_version_and_reads_it(tmp_path, producer):
    repo, published, synthetic = producer
    consumer = new_repo(tmp_path / "consumer")
    (consumer / REFINED).parent.mkdir(parents=True)  # dvc import -o wants the parent folder
    sh(consumer, DVC, "import", str(repo), REFINED, "-o", REFINED, "--rev", "eyes-v1")
    assert folder_bytes(consumer / REFINED) == published
    lock = (consumer / f"{REFINED}.dvc").read_text()
    assert "rev: eyes-v1" in lock and "rev_lock:" in lock  # the import is pinned to the tag's commit
    sh(consumer, "git", "add", "-A")
    sh(consumer, "git", "commit", "-q", "-m", "import refined eyes v1")

    items = list(open_refined("eyes", repo=str(consumer), with_meta=True))
    assert [(m["id"], labels) for _, labels, m in items] == synthetic
    image = items[0][0]
    assert image.dtype == torch.float32 and image.shape == (1, 35, 55)
    assert -1 <= image.min() and image.max() <= 1
    assert len({m["refined_by"]["refiner_sha256"] for _, _, m in items}) == 1

    loader = torch.utils.data.DataLoader(open_refined("eyes", repo=str(consumer)), batch_size=None, num_workers=2)
    assert sorted(labels["gaze"]["pitch"] for _, labels in loader) == sorted(l["gaze"]["pitch"] for _, l in synthetic)


def test_read_a_version_straight_from_the_producer_without_importing(tmp_path, producer):
    repo, published, synthetic = producer
    items = list(open_refined("eyes", repo=str(repo), rev="eyes-v1"))
    assert [labels for _, labels in items] == [labels for _, labels in synthetic]
    with pytest.raises(PipelineError, match="no such folder"):
        open_refined("eyes", repo=str(repo), rev="main")  # HEAD moved on without the data
    sh(tmp_path, DVC, "get", "-q", str(repo), REFINED, "--rev", "eyes-v1", "-o", "got")
    assert folder_bytes(tmp_path / "got") == published
