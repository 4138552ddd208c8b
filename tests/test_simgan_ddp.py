"""Data-parallel training under torchrun: 2 CPU ranks (gloo), each reading its own shards,
end a few steps with identical weights."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from pipeline.nets.refiner import Refiner
from support.params import tiny_refiner, write_params
from support.samples import write_eye_shards

ROOT = Path(__file__).resolve().parent.parent

WORKER = textwrap.dedent("""
    import os, sys, torch
    from pipeline.params import load_params
    from pipeline.simgan.run import Outputs, train_refiner
    result = train_refiner(load_params("params.yaml"), "eyes", data_root="data", outputs=Outputs.for_domain("eyes"))
    torch.save(result.refiner.state_dict(), f"rank{os.environ['RANK']}.pt")
""")


@pytest.mark.parametrize("tone", [False, True])  # the tone head's share gets no gradient while pretraining
def test_two_cpu_ranks_end_with_identical_weights(tmp_path, tone):
    write_eye_shards(tmp_path / "data", n=48, shard_size=12)  # 4 shards: 2 per rank
    write_params(tmp_path / "params.yaml",
                 train_refiner=tiny_refiner(steps=3, log_every=3, grid_every=100, checkpoint_every=100, tone=tone))
    (tmp_path / "worker.py").write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "0",
           "--rdzv-backend", "c10d", "--rdzv-endpoint", "127.0.0.1:0", "worker.py"]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert rank0.keys() == rank1.keys()
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)
    torch.manual_seed(0)  # the seeded initial weights: training must have moved them
    init = Refiner(1, 4, 1).state_dict()
    assert all(not torch.equal(init[k], rank0[k]) for k in init)
    assert (tmp_path / "models" / "refiner-eyes.pt").exists()  # outputs from rank 0 only, once
