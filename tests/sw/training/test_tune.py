"""--epochs-tune: a fine-tune phase after the joint phase with the pruning mask frozen (no regrowth)."""
import json

import pytest
import torch

from sw.training import run
from sw.training.config import Data
from sw.training.train import Trainer

from .toy import NOTE, SMALL, toy_config, toy_data


def _joint_trained(**kw):
    x, y = toy_data(64)
    cfg = toy_config(**{"model": NOTE, "epochs_float": 1, "epochs_joint": 1, "epochs_tune": 1, "lr_tune": 0.05,
                    "batch": 16, "seed": 0, "target_sparsity": 0.6, **kw})
    t = Trainer(cfg, Data(x, y, x[:32], y[:32], 0, 4), "/tmp", progress=False, log=lambda *a: None)
    t.make_optimizer()
    t.run_epoch()
    t.enter_joint()
    t.epoch = 0
    t.make_optimizer()
    t.run_epoch()
    return t


def _zeros(t):
    with torch.no_grad():
        return [l.integer_params()[0] == 0 for l in t.net.layers]


@pytest.mark.parametrize("frozen", [True, False])
def test_tune_never_regrows_a_pruned_weight(frozen):
    t = _joint_trained()
    before = _zeros(t)
    assert 0.1 < float(sum(m.sum() for m in before)) / sum(m.numel() for m in before) < 0.9
    t.enter_tune()
    if not frozen:                                  # the same epoch without the clamp regrows weights:
        t.freeze = lambda: None                     # what the test below would catch
    t.epoch = 0
    t.make_optimizer()
    assert t.opt.param_groups[0]["initial_lr"] == 0.05
    for _ in range(2):
        t.run_epoch()
        t.epoch = 0
    after = _zeros(t)
    regrown = sum(int((b & ~a).sum()) for b, a in zip(before, after))
    assert (regrown == 0) == frozen
    assert t.history[-1]["phase"] == "tune" and t.history[-1]["sparsity_deployed_shapes"] is not None


def test_tune_checkpoint_keeps_the_mask(tmp_path):
    t = _joint_trained()
    t.enter_tune()
    t.make_optimizer()
    mask = [m.clone() for m in t.frozen]
    t.save(str(tmp_path / "c.pt"))
    u = _joint_trained()
    u.load(str(tmp_path / "c.pt"))
    assert u.phase == "tune" and all(torch.equal(a, b) for a, b in zip(u.frozen, mask))
    assert u.opt.param_groups[0]["initial_lr"] == 0.05


@pytest.mark.slow
def test_a_finished_run_resumes_into_the_tune_phase(tmp_path):
    out = tmp_path / "r"
    base = ["--out", str(out), "--target-sparsity", "0.6"] + SMALL
    assert run.main(base) == 0
    first = json.loads((out / "report.json").read_text())
    assert run.main(base + ["--epochs-tune", "1", "--lr-tune", "0.01"]) == 0
    rep = json.loads((out / "report.json").read_text())
    assert [h["phase"] for h in rep["history"]] == ["float", "joint", "tune"]
    assert rep["history"][:2] == first["history"] and rep["config"]["epochs_tune"] == 1
    assert rep["nonzeros"] <= first["nonzeros"]
    # a checkpoint in (or past) the tune phase cannot change the tune settings
    assert run.main(base + ["--epochs-tune", "2", "--lr-tune", "0.01"]) == 1
    assert run.main(base + ["--epochs-tune", "0"]) == 1
