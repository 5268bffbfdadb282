"""--float-signs free: the dense float phase trains plain weights (no Grad R sign lock); the joint phase
starts from the same weights with their signs fixed."""
import pytest
import torch

from sw.training import options
from sw.training.config import Data
from sw.training.train import Trainer

from .toy import NOTE, toy_config, toy_data


def _float_trained(signs):
    x, y = toy_data(64)
    cfg = toy_config(model=NOTE, epochs_float=1, epochs_joint=1, batch=16, seed=0, lr=0.05, target_sparsity=0.6,
                 float_signs=signs)
    t = Trainer(cfg, Data(x, y, x[:32], y[:32], 0, 4), "/tmp", progress=False, log=lambda *a: None)
    t.make_optimizer()
    for _ in range(3):
        t.run_epoch()
        t.epoch = 0
    return t


@pytest.mark.parametrize("signs", ["fixed", "free"])
def test_float_phase_sign_lock(signs):
    """With fixed signs a weight that the loss drives across 0 stays exactly 0; with free signs it changes
    sign, and no weight ends at exactly 0."""
    t = _float_trained(signs)
    init = Trainer(t.cfg, t.data, "/tmp", progress=False, log=lambda *a: None)     # same seed: same init
    flipped = zeros = 0
    for l, l0 in zip(t.net.layers, init.net.layers):
        w, w0 = l.weight().detach(), l0.weight().detach()
        flipped += int((torch.sign(w) * torch.sign(w0) < 0).sum())
        zeros += int((w == 0).sum())
    if signs == "fixed":
        assert flipped == 0 and zeros > 0
    else:
        assert flipped > 0 and zeros == 0


def test_joint_start_keeps_the_float_weights_and_fixes_their_signs():
    t = _float_trained("free")
    before = [l.weight().detach().clone() for l in t.net.layers]
    assert any(bool((l.theta_w < 0).any()) for l in t.net.layers)
    t.enter_joint()
    for l, w in zip(t.net.layers, before):
        assert not l.free_sign and bool((l.theta_w >= 0).all()) and bool((l.theta_b >= 0).all())
        assert torch.equal(l.weight().detach(), w)               # sign0 * ReLU(theta): the same weights
        assert torch.equal(l.sign_w, torch.where(w < 0, -1.0, 1.0))


def test_float_checkpoint_resumes_free(tmp_path):
    t = _float_trained("free")
    t.save(str(tmp_path / "c.pt"))
    u = Trainer(t.cfg, t.data, "/tmp", progress=False, log=lambda *a: None)
    u.load(str(tmp_path / "c.pt"))
    assert all(l.free_sign for l in u.net.layers)
    for a, b in zip(t.net.layers, u.net.layers):
        assert torch.equal(a.weight(), b.weight())


def test_cli_rejects_an_unknown_choice(capsys):
    with pytest.raises(SystemExit) as e:
        options.parse_args(["--float-signs", "loose", "--quick"])
    assert e.value.code == 2 and "--float-signs" in capsys.readouterr().err
