"""--batch-joint: the joint (and fine-tune) phase walks batches of its own size, the float phase keeps
--batch, and a float-phase checkpoint resumes with any --batch-joint."""
import json

import pytest
import torch

from sw.training import run

from .toy import SMALL, toy_trainer


def _trainer(**kw):
    return toy_trainer(epochs_joint=2, target_sparsity=0.6, **kw)


@pytest.mark.parametrize("bj,float_steps,joint_steps", [(0, 4, 4), (8, 4, 8), (32, 4, 2)])
def test_phase_batch_sizes(bj, float_steps, joint_steps):
    t = _trainer(batch_joint=bj)
    assert t.steps_per_epoch("float") == float_steps and t.steps_per_epoch("joint") == joint_steps
    t.make_optimizer()
    t.run_epoch()
    t.enter_joint()
    t.make_optimizer()
    t.epoch = 0
    t.run_epoch()
    # the controllers ramp over the joint phase's own step count, and step once per joint batch
    assert t.joint_step == joint_steps
    assert all(g.controller.ramp_steps == int(t.cfg.ramp * 2 * joint_steps) for g in t.groups)


@pytest.mark.slow
def test_float_checkpoint_resumes_with_another_joint_batch(tmp_path):
    out = tmp_path / "f"
    assert run.main(["--out", str(out), "--stop-after-float"] + SMALL) == 0
    assert run.main(["--out", str(out), "--batch-joint", "8"] + SMALL) == 0
    rep = json.loads((out / "report.json").read_text())
    assert rep["config"]["batch"] == 16 and rep["config"]["batch_joint"] == 8
    st = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert st["phase"] == "joint"
    # a joint-phase checkpoint no longer resumes with another joint batch
    assert run.main(["--out", str(out), "--batch-joint", "4", "--epochs-joint", "2"] + SMALL) == 1
