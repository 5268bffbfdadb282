"""torchrun --nproc_per_node 2 (gloo, CPU) trains the same model as one process.

Every rank takes its contiguous half of the same seeded global batch and DDP averages the gradients,
so the two runs differ only by float summation order; we check the parameters within tolerance and
the exported integer models' predictions."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from sw import golden
from sw.artifact import Model

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow
ARGS = ["sw/training/run.py", "--model", "1x28x28-4c3p1-mp2-8c3p1-mp2-10fc", "--quick", "--no-progress",
        "--train-limit", "128", "--test-limit", "64", "--batch", "16", "--epochs-joint", "1"]


def _run(cmd, out):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run(cmd + ARGS + ["--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)


def test_ddp_two_processes_match_one(tmp_path):
    one = _run([sys.executable], tmp_path / "one")
    two = _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"],
               tmp_path / "two")
    assert [h["phase"] for h in one["history"]] == [h["phase"] for h in two["history"]]
    for k, a in one["net"].items():
        b = two["net"][k]
        if a.is_floating_point():
            torch.testing.assert_close(a, b, rtol=1e-3, atol=2e-3, msg=lambda m: f"{k}: {m}")
        else:
            assert torch.equal(a, b), k
    losses = [(h["train_loss"], g["train_loss"]) for h, g in zip(one["history"], two["history"])]
    assert np.allclose(*zip(*losses), rtol=1e-3), losses
    m1, m2 = Model.load(tmp_path / "one" / "model.ffs"), Model.load(tmp_path / "two" / "model.ffs")
    from sw.datasets import load
    x = load("mnist", "test").images[:64]
    p1, p2 = golden.run(m1, x)[0], golden.run(m2, x)[0]
    assert (p1 == p2).mean() >= 0.95
