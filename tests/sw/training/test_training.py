"""Grad R, LSQ and the export check on small models."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sw import golden
from sw.training import export
from sw.training import gradrewiring as gr
from sw.training.models import build
from sw.training.config import Data
from sw.training.train import Trainer

from .toy import NOTE, toy_config, toy_data


def test_rewired_gradient_reaches_pruned_synapses():
    theta = torch.tensor([0.5, -0.3, 0.0], requires_grad=True)
    sign = torch.tensor([1.0, -1.0, 1.0])
    w = gr.effective(theta, sign)
    assert w.tolist() == [0.5, 0.0, 0.0]
    w.sum().backward()
    assert theta.grad.tolist() == [1.0, -1.0, 1.0]       # no ReLU mask: pruned weights can regrow


def test_prior_mu_and_step():
    mu = gr.prior_mu(5.0, 0.9)
    assert mu == pytest.approx(np.log(0.2) / 5.0)
    th = torch.tensor([1.0, mu - 1.0])
    gr.prior_step([th], lr=0.1, strength=1.0, mu=mu)
    assert th.tolist() == pytest.approx([0.9, mu - 0.9])


def test_gradr_drives_sparsity_toward_target():
    x, y = toy_data()
    cfg = toy_config(model=NOTE, epochs_float=0, epochs_joint=4, batch=16, target_sparsity=0.8, lr_joint=1e-2,
                 prior_strength=2.0, ramp=0.5, seed=0)
    t = Trainer(cfg, Data(x, y, x[:64], y[:64], 0, 4), "/tmp", progress=False, log=lambda *a: None)
    t.enter_joint()
    t.epoch = 0
    start = t.net.overall_sparsity()
    t.make_optimizer()
    for _ in range(cfg.epochs_joint):
        t.run_epoch()
    end = t.net.overall_sparsity()
    assert end > start + 0.3, (start, end)
    assert end > 0.65, end
    assert np.isfinite(t.history[-1]["train_loss"])


def test_lsq_scales_receive_gradients():
    torch.manual_seed(0)
    net = build(NOTE, timesteps=4, in_bits=8)
    x, y = toy_data(32)
    net.calibrate(export.torch_input(x, net))
    net.set_integer(True)
    logits, _ = net(export.torch_input(x, net))
    F.cross_entropy(logits, torch.from_numpy(y)).backward()
    for i, l in enumerate(net.layers):
        assert l.scale.grad is not None and l.scale.grad.abs().sum() > 0, f"layer {i} scale has no gradient"
        assert l.theta_w.grad.abs().sum() > 0
    assert net.layers[-1].scale.numel() == 1          # one readout scale: integer argmax == float argmax


def test_export_refuses_a_corrupted_model():
    torch.manual_seed(1)
    net = build(NOTE, timesteps=4, in_bits=8)
    x, y = toy_data(64, seed=1)
    net.calibrate(export.torch_input(x, net))
    net.set_integer(True)
    net.eval()
    model = export.to_artifact(net)
    export.verify(net, model, x)                    # the honest artifact passes
    good = golden.run(model, x)[0]
    last = model.layers[-1]
    refused = 0
    for c in range(last.shape.co):                   # corrupt ONE readout weight until a prediction moves
        w = last.weights.copy()
        k = np.unravel_index(np.argmin(w[c]), w[c].shape)
        w[(c,) + k] = 7
        bad = type(model).from_dense(model.shapes, [l.weights for l in model.layers[:-1]] + [w],
                                     [l.bias for l in model.layers], [l.vth for l in model.layers],
                                     model.timesteps, model.in_bits, model.in_kind, model.notation)
        if (golden.run(bad, x)[0] != good).any():
            with pytest.raises(export.ExportError, match="differ"):
                export.verify(net, bad, x)
            refused += 1
            break
    assert refused, "no single-weight corruption changed a prediction"


def test_layer_targets_spread_the_overall_target():
    sizes = [72, 1152, 4608, 5760]
    t = gr.layer_targets("0, 0.5, *, *", sizes, 0.9)
    assert t[:2] == [0.0, 0.5] and t[2] == t[3]
    assert sum(s * n for s, n in zip(t, sizes)) / sum(sizes) == pytest.approx(0.9)
    for bad, msg in [("0,*,*", "3 entries for 4 layers"), ("0,x,*,*", "not a fraction"),
                     ("0,1.0,*,*", "outside"), ("0,0.5,0.5,0.5", "at least one"),
                     ("0,0,0,*", "would need sparsity")]:
        with pytest.raises(ValueError, match=msg):
            gr.layer_targets(bad, sizes, 0.9)


def _joint_run(spec, exempt="", bias_prior=True, epochs=4, **kw):
    x, y = toy_data()
    cfg = toy_config(model=NOTE, epochs_float=0, epochs_joint=epochs, batch=16, target_sparsity=0.7, lr_joint=1e-2,
                 prior_strength=2.0, ramp=0.5, seed=0, layer_sparsity=spec, exempt_layers=exempt,
                 bias_prior=bias_prior, **kw)
    t = Trainer(cfg, Data(x, y, x[:64], y[:64], 0, 4), "/tmp", progress=False, log=lambda *a: None)
    t.enter_joint()
    t.epoch = 0
    t.make_optimizer()
    for _ in range(cfg.epochs_joint):
        t.run_epoch()
    return t


def test_per_layer_targets_spare_a_layer_the_prior():
    uni, per = _joint_run(""), _joint_run("0,*,*")
    assert len(uni.groups) == 1 and len(per.groups) == 3 and per.groups[0].controller.target == 0.0
    assert all(h["prior_strength"][0] == 0.0 for h in per.history)      # no prior on layer 0
    su, sp = uni.net.weight_sparsity(), per.net.weight_sparsity()
    assert sp[0] < su[0] - 0.03, (su, sp)          # layer 0 keeps more weights (the data term alone prunes)
    assert sp[1] + sp[2] > su[1] + su[2], (su, sp)  # and the other layers carry the overall target
    assert per.net.overall_sparsity() > 0.7


def test_exempt_layer_keeps_one_controller_on_the_whole_net():
    uni, ex = _joint_run(""), _joint_run("", exempt="0")
    assert len(ex.groups) == 1 and ex.groups[0].layers == [0, 1, 2] and ex.groups[0].exempt == (0,)
    assert len(ex.groups[0].thetas) == 4                  # layers 1 and 2 (weight, bias); none of layer 0
    su, se = uni.net.weight_sparsity(), ex.net.weight_sparsity()
    assert se[0] < su[0] - 0.03, (su, se)          # layer 0 keeps more weights (the data term alone prunes)
    assert se[1] + se[2] > su[1] + su[2], (su, se)  # and the other layers carry the overall target
    assert ex.net.overall_sparsity() > 0.7 * 0.9


def test_no_bias_prior_keeps_the_biases_and_the_target():
    uni, nb = _joint_run(""), _joint_run("", bias_prior=False)
    alive = [int((l.theta_b > 0).sum()) for l in nb.net.layers]
    pruned = [int((l.theta_b > 0).sum()) for l in uni.net.layers]
    assert sum(alive) > sum(pruned) + 3, (pruned, alive)      # the prior zeroes biases; without it they stay
    assert nb.net.overall_sparsity() > 0.7 * 0.9               # the weights still reach the target


def test_scale_lr_sets_how_fast_the_lsq_scales_move():
    torch.manual_seed(0)
    start = [l.scale.detach().clone() for l in _joint_run("", epochs=0).net.layers]
    moved = {}
    for f in (0.0, 0.1, 1.0):
        torch.manual_seed(0)
        net = _joint_run("", epochs=1, scale_lr=f).net
        moved[f] = sum(float((l.scale.detach() - s0).abs().max()) for l, s0 in zip(net.layers, start))
    assert moved[0.0] == 0.0 and 0 < moved[0.1] < moved[1.0], moved


def test_label_smoothing_applies_from_the_joint_phase_on(tmp_path):
    x, y = toy_data(64)
    cfg = toy_config(model=NOTE, epochs_float=1, epochs_joint=1, batch=16, seed=0, label_smoothing=0.2)
    t = Trainer(cfg, Data(x, y, x[:16], y[:16], 0, 4), str(tmp_path), progress=False, log=lambda *a: None)
    logits, yy = torch.randn(8, 4, generator=torch.Generator().manual_seed(1)), torch.arange(8) % 4
    plain = F.cross_entropy(logits, yy)
    assert torch.equal(t.loss(logits, None, yy), plain)                     # float phase: off
    t.enter_joint()
    smooth = 0.8 * plain + 0.2 * (-F.log_softmax(logits, 1)).mean()         # targets 0.8 onehot + 0.2 / 4
    assert torch.allclose(t.loss(logits, None, yy), smooth) and not torch.allclose(smooth, plain)


def test_exempt_layers_parse():
    assert gr.exempt_layers("", 6) == [] and gr.exempt_layers(" 3, 0,3", 6) == [0, 3]
    for bad, n, msg in [("6", 6, "not a layer index"), ("-1", 6, "not a layer index"), ("0,1,2", 3, "every layer")]:
        with pytest.raises(ValueError, match=msg):
            gr.exempt_layers(bad, n)


def test_checkpoint_with_one_controller_dict_still_loads(tmp_path):
    """Checkpoints written before per-layer targets hold one controller state dict, not a list."""
    x, y = toy_data(64)
    cfg = toy_config(model=NOTE, epochs_float=0, epochs_joint=1, batch=16, seed=0)
    data = Data(x, y, x[:16], y[:16], 0, 4)
    t = Trainer(cfg, data, str(tmp_path), progress=False, log=lambda *a: None)
    t.enter_joint()
    t.make_optimizer()
    t.groups[0].controller.strength = 0.123
    st = t.state()
    assert st["controller"] == [{"strength": 0.123}]
    st["controller"] = st["controller"][0]                 # the old format
    torch.save(st, tmp_path / "old.pt")
    u = Trainer(cfg, data, str(tmp_path), progress=False, log=lambda *a: None)
    u.load(str(tmp_path / "old.pt"))
    assert u.strengths() == 0.123
