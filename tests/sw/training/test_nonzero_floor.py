"""--nonzero-floor F: with the deployed count, a sparsity controller backs off once its layers keep fewer
non-zero weights than F (1 - goal) of their nominal count, so emptied channels cannot drive it on."""
import pytest
import torch

from sw.training import gradrewiring as gr
from sw.training import options

from .toy import toy_trainer


def group(target=0.9, sizes=(100, 300)):
    return gr.PriorGroup([], gr.prior_mu(5.0, target), gr.SparsityController(target, ramp_steps=10), [0, 1],
                         list(sizes))


@pytest.mark.parametrize("nominal, floor, low", [
    ((0.95, 0.95), 0.6, True),       # 5 % non-zeros < 0.6 * 10 %
    ((0.93, 0.95), 0.6, True),       # 5.5 % (weighted 1:3) < 6 %
    ((0.90, 0.95), 0.6, False),      # 6.25 %
    ((0.95, 0.95), 0.4, False),      # 5 % >= 4 %
    ((0.99, 0.99), 0.0, False),      # off
])
def test_the_floor_counts_the_nominal_non_zeros_against_the_goal(nominal, floor, low):
    assert group().below_floor(nominal, step=10, floor=floor) is low


def test_the_floor_follows_the_ramp():
    g = group()
    half = g.controller.goal(5)                      # 0.9 * (1 - 0.5 ** 3) = 0.7875
    s = 1 - 0.6 * (1 - half)                         # the nominal sparsity where the floor starts
    assert not g.below_floor((s - 0.01, s - 0.01), step=5, floor=0.6)
    assert g.below_floor((s + 0.01, s + 0.01), step=5, floor=0.6)
    assert not group(target=0.0).below_floor((0.99, 0.99), step=10, floor=0.6)   # no prior, no floor


def one_channel_per_layer(t):
    """Every layer keeps only output channel 0, dense: the deployed shapes are 1 channel wide and dense
    (deployed sparsity 0), the nominal network almost empty."""
    with torch.no_grad():
        for l in t.net.layers:
            l.theta_w.fill_(-1.0)
            l.theta_w[0] = 1.0
            l.theta_b.fill_(-1.0)


@pytest.mark.parametrize("floor", [0.6, 0.0])
def test_a_controller_below_the_floor_backs_off_although_the_deployed_count_is_short(floor):
    t = toy_trainer(epochs_float=0, target_sparsity=0.6, sparsity_count="deployed", nonzero_floor=floor)
    t.enter_joint()
    one_channel_per_layer(t)
    t.joint_step = t.ramp_steps                      # the goal is the target
    per_layer, sizes = t.measured_sparsity()
    assert gr.weighted(per_layer, sizes) < 0.6 < t.net.overall_sparsity()
    before = t.groups[0].controller.strength
    t.update_controllers(per_layer, sizes)
    after = t.groups[0].controller.strength
    assert (after < before) if floor else (after > before)
    assert t.floor_updates == (1 if floor else 0)


def test_the_nominal_count_has_no_floor():
    t = toy_trainer(epochs_float=0, target_sparsity=0.6, sparsity_count="nominal", nonzero_floor=0.6)
    t.enter_joint()
    one_channel_per_layer(t)
    t.joint_step = t.ramp_steps
    t.update_controllers(*t.measured_sparsity())     # nominal sparsity above the goal: backs off, unbounded
    assert t.floor_updates == 0


def test_history_records_the_floor_updates():
    t = toy_trainer(target_sparsity=0.6, sparsity_count="deployed")
    t.fit()
    assert [h["floor_updates"] is None for h in t.history] == [h["phase"] == "float" for h in t.history]


def test_cli(tmp_path):
    _, cfg = options.parse_args(["--nonzero-floor", "0.5", "--out", str(tmp_path / "r")])
    assert cfg.nonzero_floor == 0.5 and "nonzero_floor" in options.JOINT_ONLY
    assert options.parse_args(["--out", str(tmp_path / "s")])[1].nonzero_floor == 0.6
    with pytest.raises(SystemExit):
        options.parse_args(["--nonzero-floor", "1.5", "--out", str(tmp_path / "t")])
