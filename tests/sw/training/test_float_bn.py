"""--float-bn: the dense float phase trains with a BatchNorm after every firing layer's current, folded into
the layer's weights and bias when the joint phase starts, so the integer model and the artifact never
have one."""
import json

import pytest
import torch
from spikingjelly.activation_based import functional

from sw.training import run
from sw.training.models import build
from sw.training.train import Trainer

from .toy import NOTE, SMALL, toy_data, toy_trainer

HIDDEN_FC = "1x12x12-6c3p1-mp2-8c3p1-mp2-16fc-4fc"      # a firing fc layer: BatchNorm1d


@pytest.mark.parametrize("notation", [NOTE, HIDDEN_FC])
@pytest.mark.parametrize("free", [False, True])
def test_fold_keeps_the_float_model_and_pruned_weights(notation, free):
    torch.manual_seed(1)
    net = build(notation)
    x, _ = toy_data(64)
    x = torch.from_numpy(x).float()
    for l in net.layers:                                      # some weights pruned (theta < 0) before the fold
        l.theta_w.data[::3] = -0.1
    net.set_free_signs(free)
    net.set_bn(True)
    assert sum(l.bn is not None for l in net.layers) == len(net.layers) - 1       # not on the readout
    net.train()
    for _ in range(3):                                        # running statistics of the current
        net(x)
        functional.reset_net(net)
    with torch.no_grad():
        for l in net.layers[:-1]:                             # gammas of both signs, one zero
            l.bn.weight.uniform_(-1.5, 1.5)
            l.bn.weight[0] = 0.0
            l.bn.bias.uniform_(1.0, 3.0)                      # every layer fires
    net.eval()
    _, _, before = net(x, record=True)
    functional.reset_net(net)
    zero = [(l.weight() == 0).clone() for l in net.layers]
    net.set_bn(False)
    assert all(l.bn is None for l in net.layers) and net.bn_parameters() == []
    _, _, after = net(x, record=True)
    functional.reset_net(net)
    for a, b in zip(before["currents"], after["currents"]):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-5)
    for a, b in zip(before["spikes"][:-1], after["spikes"][:-1]):
        assert torch.equal(a, b) and float(a.detach().mean()) > 0
    if not free:
        for l, z in zip(net.layers, zero):
            assert bool((l.weight()[z] == 0).all())           # a pruned weight stays pruned
            assert bool((l.theta_w[::3] <= 0).all())         # with its theta still below 0 (it may regrow)


def test_bn_is_trained_in_the_float_phase_and_gone_in_the_joint_phase(tmp_path):
    t = toy_trainer(lr=0.05, target_sparsity=0.6, float_bn=True)
    cfg = t.cfg
    t.make_optimizer()
    t.run_epoch()
    bn = t.net.layers[0].bn
    assert not torch.equal(bn.weight, torch.ones_like(bn.weight))           # gamma is optimized
    assert not torch.equal(bn.running_var, torch.ones_like(bn.running_var))
    t.save(str(tmp_path / "float.pt"))
    u = Trainer(cfg, t.data, "/tmp", progress=False, log=lambda *a: None)   # a float checkpoint resumes
    u.load(str(tmp_path / "float.pt"))
    assert torch.equal(u.net.layers[0].bn.running_mean, bn.running_mean)
    t.enter_joint()
    assert all(l.bn is None for l in t.net.layers) and t.net.integer
    t.make_optimizer()
    t.run_epoch()
    t.save(str(tmp_path / "joint.pt"))
    v = Trainer(cfg, t.data, "/tmp", progress=False, log=lambda *a: None)   # and so does a joint one
    v.load(str(tmp_path / "joint.pt"))
    assert all(l.bn is None for l in v.net.layers)
    for a, b in zip(t.net.layers, v.net.layers):
        assert torch.equal(a.integer_params()[0], b.integer_params()[0])


def test_float_bn_exports_bit_exact(tmp_path):
    """The whole run: the export's own golden == torch check must pass, and the report records the option."""
    out = tmp_path / "bn"
    assert run.main(["--out", str(out), "--float-bn"] + SMALL) == 0
    rep = json.loads((out / "report.json").read_text())
    assert rep["config"]["float_bn"] is True and rep["export_check"]["mismatches"] == 0
    assert run.main(["--out", str(out)] + SMALL) == 1               # a --float-bn checkpoint is not resumed without it
