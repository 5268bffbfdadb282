"""--keep-channels K: the Grad R prior spares an output channel with at most K weights left, so the prior
alone never silences a channel; with K = 0 it thins every channel alike."""
import pytest
import torch

from sw.training import gradrewiring as gr


def _pair():
    tw = torch.full((3, 2, 3, 3), -0.5)
    tw[0] = 0.2                       # channel 0: 18 weights left
    tw[1, 0, 0, :2] = 0.2             # channel 1: 2 weights left
    tw[2, 1, 1, 1] = 0.2              # channel 2: 1 weight left
    return tw, torch.full((3,), 0.2)


@pytest.mark.parametrize("keep,thinned", [(0, [0, 1, 2]), (1, [0, 1]), (2, [0]), (18, [])])
def test_prior_spares_channels_with_at_most_keep_weights(keep, thinned):
    tw, tb = _pair()
    before_w, before_b = tw.clone(), tb.clone()
    gr.prior_step([tw, tb], lr=0.1, strength=1.0, mu=-1.0, keep=keep)
    for c in range(3):
        moved_w, moved_b = not torch.equal(tw[c], before_w[c]), not torch.equal(tb[c], before_b[c])
        assert moved_w == moved_b == (c in thinned), (keep, c)
        if c in thinned:              # every theta above mu moves down by lr * strength
            assert torch.allclose(tw[c], before_w[c] - 0.1) and torch.isclose(tb[c], before_b[c] - 0.1)


def test_keep_zero_matches_the_plain_prior():
    tw, tb = _pair()
    a, b = tw.clone(), tb.clone()
    gr.prior_step([tw, tb], lr=0.05, strength=2.0, mu=-0.3, keep=0)
    gr.prior_step([a], lr=0.05, strength=2.0, mu=-0.3)
    gr.prior_step([b], lr=0.05, strength=2.0, mu=-0.3)
    assert torch.equal(tw, a) and torch.equal(tb, b)


@pytest.mark.parametrize("keep", [0, 1])
def test_no_bias_prior_leaves_biases_alone(keep):
    """--no-bias-prior: the prior thins the weights exactly as before and never moves a bias."""
    tw, tb = _pair()
    a, b = tw.clone(), tb.clone()
    gr.prior_step([tw, tb], lr=0.1, strength=1.0, mu=-1.0, keep=keep, bias=False)
    gr.prior_step([a, b.clone()], lr=0.1, strength=1.0, mu=-1.0, keep=keep)
    assert torch.equal(tw, a) and torch.equal(tb, b)


@pytest.mark.parametrize("target,count,keep,advised", [
    (0.941, "deployed", 0, False),       # the defaults: no note
    (0.95, "deployed", 0, False),        # at the bound of the advice
    (0.97, "deployed", 0, True),         # above 95 %, counted on the deployed shapes, no channel kept: advised
    (0.97, "deployed", 3, False),
    (0.97, "nominal", 0, False),
])
def test_run_advises_keep_channels_above_95_percent(target, count, keep, advised):
    from dataclasses import replace

    from sw.training import guard
    from sw.training.config import Config
    note = guard.target_advice(replace(Config(), target_sparsity=target, sparsity_count=count, keep_channels=keep))
    assert (note is not None) == advised
    if advised:
        assert "--keep-channels 3" in note and "--sparsity-count nominal" in note and "0.97" in note
