"""--free-logit-scale: the integer-mode logits get their own learned scale, so the readout's LSQ scale is no
longer the softmax temperature; the logits start unchanged and the integer argmax never depends on it."""
import torch
import torch.nn.functional as F

from sw.training.models import build
from sw.training.config import Data
from sw.training.train import Trainer

from .toy import NOTE, toy_config, toy_data


def _net():
    torch.manual_seed(0)
    x, y = toy_data(64)
    net = build(NOTE)
    net.calibrate(torch.from_numpy(x).float())
    net.set_integer(True)
    return net, torch.from_numpy(x).float(), torch.from_numpy(y)


def _readout_scale_grad(net, x, y):
    net.zero_grad(set_to_none=True)
    logits, acc = net(x)
    F.cross_entropy(logits, y).backward()
    return net.layers[-1].scale.grad.clone(), logits.detach(), acc.detach()


def test_free_logit_scale_starts_equal_and_takes_the_temperature_off_the_readout_scale():
    net, x, y = _net()
    g_tied, logits_tied, acc = _readout_scale_grad(net, x, y)
    net.set_logit_scale()
    assert net.logit_scale is not None and "logit_scale" in net.state_dict()
    g_free, logits_free, acc_free = _readout_scale_grad(net, x, y)
    assert torch.equal(acc_free, acc) and torch.allclose(logits_free, logits_tied)   # same start, same argmax
    assert net.logit_scale.grad is not None and net.logit_scale.grad.abs().item() > 0  # the temperature learns
    # the readout's scale keeps only its quantization gradient: the temperature term acc / T * dL/dlogits is gone
    net.zero_grad(set_to_none=True)
    logits, acc = net(x)
    dlogits = torch.autograd.grad(F.cross_entropy(logits, y), logits)[0]
    temp = (acc / net.timesteps * dlogits).sum() * torch.sign(net.layers[-1].scale.detach())
    assert torch.allclose(g_tied - g_free, temp.view(1), rtol=1e-4, atol=1e-6)


def test_joint_phase_with_free_logit_scale_learns_it_and_resumes(tmp_path):
    x, y = toy_data()
    cfg = toy_config(model=NOTE, epochs_float=0, epochs_joint=1, batch=16, target_sparsity=0.5, seed=0,
                     free_logit_scale=True)
    t = Trainer(cfg, Data(x, y, x[:64], y[:64], 0, 4), "/tmp", progress=False, log=lambda *a: None)
    t.enter_joint()
    t.epoch = 0
    t.make_optimizer()
    start = t.net.logit_scale.item()
    t.run_epoch()
    assert t.net.logit_scale.item() != start
    t.save(str(tmp_path / "c.pt"))
    u = Trainer(cfg, Data(x, y, x[:64], y[:64], 0, 4), "/tmp", progress=False, log=lambda *a: None)
    u.load(str(tmp_path / "c.pt"))
    assert torch.equal(u.net.logit_scale, t.net.logit_scale)
