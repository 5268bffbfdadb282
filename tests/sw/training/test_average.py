"""--ema: weight averages over the end of the joint phase (sw/training/average.py)."""
import json

import pytest
import torch

from sw.training import run
from sw.training.average import WeightAverages, parse_decays
from sw.training.train import evaluate

from .toy import SMALL, toy_trainer


def test_parse_decays():
    assert parse_decays("") == [] and parse_decays(" ") == []
    assert parse_decays("0.999, 0.9") == [0.999, 0.9]
    for bad, why in (("1", "outside"), ("0", "outside"), ("x", "not a number"), ("0.9,0.9", "twice")):
        with pytest.raises(ValueError, match=why):
            parse_decays(bad)


def _joint(**kw):
    """A toy trainer in its joint phase (one float epoch done)."""
    t = toy_trainer(**kw)
    t.make_optimizer()
    t.run_epoch()
    t.enter_joint()
    t.epoch = 0
    t.make_optimizer()
    return t


def test_an_average_is_the_ema_and_never_holds_a_weight_the_model_pruned():
    t = _joint()
    net = t.net
    avg = WeightAverages(net, [0.75])
    avg.update(net)                                # the first update copies
    before = [l.theta_w.detach().clone() for l in net.layers]
    with torch.no_grad():
        for l in net.layers:                       # prune a quarter of the kept weights, move the rest
            keep = l.theta_w > 0
            l.theta_w.copy_(torch.where(keep, l.theta_w + 0.5, l.theta_w))
            l.theta_w.view(-1)[::4] = -0.01
    avg.update(net)
    assert avg.updates == 2
    m = avg.masked(0, net)
    for b, la, ln in zip(before, m.layers, net.layers):
        ema = 0.75 * b + 0.25 * ln.theta_w.detach()
        kept = ln.theta_w > 0
        assert torch.allclose(la.theta_w[kept], ema[kept])
        assert torch.equal(la.theta_w[~kept], ln.theta_w[~kept])       # the model's own pruned value
        assert not bool(((la.theta_w > 0) & ~kept).any())
        assert bool(((ema > 0) & ~kept).any())      # unmasked, the average would have regrown some
    assert m.integer == net.integer


def test_the_joint_phase_scores_every_average_and_keeps_the_first(tmp_path):
    t = toy_trainer(ema="0.9,0.5", ramp=0.5, epochs_joint=2)
    logs = []
    t.log = logs.append
    res = t.fit(str(tmp_path / "c.pt"))
    steps = t.steps_per_epoch("joint")
    assert t.averages.updates == 2 * steps - t.ramp_steps + 1
    assert set(res["ema_acc"]) == {"0.9", "0.5"} and res["joint_trained_acc"] == t.history[-1]["test_acc"]
    assert [h["ema_acc"] is not None for h in t.history] == [False, True, True]
    assert evaluate(t.net, t.data.x_test, t.data.y_test)[0] == res["ema_acc"]["0.9"]
    assert any(line.startswith("--ema: the trained model") for line in logs)
    u = toy_trainer(ema="0.9,0.5", ramp=0.5, epochs_joint=2)     # the checkpoint holds the adopted model
    u.load(str(tmp_path / "c.pt"))
    assert u.results == {k: v for k, v in res.items() if k != "pruned_float_acc"}     # fit adds it after the save
    assert u.averages.updates == t.averages.updates
    assert all(torch.equal(a, b) for a, b in zip(u.net.state_dict().values(), t.net.state_dict().values()))
    with pytest.raises(ValueError, match="decays"):
        toy_trainer(ema="0.9", ramp=0.5, epochs_joint=2).load(str(tmp_path / "c.pt"))


@pytest.mark.slow
def test_ema_run_exports_the_average(tmp_path):
    out = tmp_path / "r"
    args = ["--out", str(out), "--target-sparsity", "0.6", "--ema", "0.9"] + SMALL
    assert run.main(args) == 0
    rep = json.loads((out / "report.json").read_text())
    acc = rep["accuracy"]
    assert acc["deployed"] == acc["pruned_quant4_torch"] == acc["ema"]["0.9"]
    assert acc["joint_trained"] == rep["history"][-1]["test_acc"]
    assert run.main(args) == 0                      # the finished checkpoint: the same report again
    again = json.loads((out / "report.json").read_text())
    assert again["accuracy"] == acc and again["nonzeros"] == rep["nonzeros"]
