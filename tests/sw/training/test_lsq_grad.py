"""--lsq-grad whole: LSQ's gradient scale 1/sqrt(n Qp) multiplies the WHOLE gradient of every layer's scale
(the rounding path, the surrogate's float units, the readout's logits), as LSQ defines it; 'split' (the
committed models) scales the rounding path only. The forward pass is the same either way."""
import pytest
import torch
import torch.nn.functional as F

from sw.training.models import SpikingLayer, build

from .toy import NOTE, toy_data


def _scale_grads(whole: bool, unit_factor: bool, monkeypatch):
    torch.manual_seed(0)
    x, y = toy_data(64)
    x, y = torch.from_numpy(x).float(), torch.from_numpy(y)
    net = build(NOTE)
    net.calibrate(x)
    net.set_integer(True)
    net.whole_lsq_grad = whole
    with monkeypatch.context() as m:
        if unit_factor:
            m.setattr(SpikingLayer, "lsq_factor", lambda self: 1.0)
        logits, acc = net(x)
        F.cross_entropy(logits, y).backward()
    return [l.scale.grad.clone() for l in net.layers], [l.lsq_factor() for l in net.layers], acc


def test_whole_scales_every_path_of_the_scale_gradient_by_the_lsq_factor(monkeypatch):
    g_whole, factors, acc_whole = _scale_grads(True, False, monkeypatch)
    g_unit, _, acc_unit = _scale_grads(True, True, monkeypatch)
    assert torch.equal(acc_whole, acc_unit)                      # the forward pass does not change
    for gw, gu, f in zip(g_whole, g_unit, factors):
        assert f < 0.5 and gu.abs().max() > 0
        assert torch.allclose(gw, f * gu, rtol=1e-3, atol=1e-7)


def test_split_leaves_the_surrogate_and_logit_paths_unscaled(monkeypatch):
    g_split, factors, acc_split = _scale_grads(False, False, monkeypatch)
    g_unit, _, acc_unit = _scale_grads(False, True, monkeypatch)
    _, _, acc_whole = _scale_grads(True, False, monkeypatch)
    assert torch.equal(acc_split, acc_whole)
    # the readout's scale: the logits' full-gradient temperature path dominates, so split is far from f * unit
    assert not torch.allclose(g_split[-1], factors[-1] * g_unit[-1], rtol=0.1)


def test_cli_choice(tmp_path):
    from sw.training import options
    _, cfg = options.parse_args(["--lsq-grad", "whole", "--out", str(tmp_path / "r")])
    assert cfg.lsq_grad == "whole"
    with pytest.raises(SystemExit):
        options.parse_args(["--lsq-grad", "all", "--out", str(tmp_path / "r2")])
