"""--controller-gain G: the sparsity controller's step factor, from the CLI to every prior group."""
import pytest

from sw.training import gradrewiring as gr
from sw.training import options

from .toy import toy_trainer


@pytest.mark.parametrize("gain", [1.01, 1.05, 1.5])
def test_the_strength_moves_by_the_gain_each_update(gain):
    c = gr.SparsityController(0.9, ramp_steps=10, strength=0.1, gain=gain)
    assert c.update(10, 0.5) == pytest.approx(0.1 * gain)          # below the goal: stronger
    assert c.update(10, 0.95) == pytest.approx(0.1)                # above: back by the same factor
    assert c.update(10, 0.95) == pytest.approx(0.1 / gain)


@pytest.mark.parametrize("spec", ["", "0,*,*"])
def test_every_prior_group_gets_the_configured_gain(spec):
    t = toy_trainer(epochs_float=0, controller_gain=1.01, target_sparsity=0.6, layer_sparsity=spec)
    t.enter_joint()
    assert len(t.groups) == (1 if not spec else len(t.net.layers))
    assert all(g.controller.gain == 1.01 for g in t.groups)


def test_cli_takes_the_gain_as_a_joint_only_setting(tmp_path):
    _, cfg = options.parse_args(["--controller-gain", "1.01", "--out", str(tmp_path / "r")])
    assert cfg.controller_gain == 1.01
    assert "controller_gain" in options.JOINT_ONLY
