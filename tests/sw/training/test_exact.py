"""The eval-mode torch model computes the golden model's integers, membranes included."""
import numpy as np
import pytest
import torch

from sw import golden, spec
from sw.training import export
from sw.training.models import build

CASES = [
    ("1x12x12-4c3p1-6c3p1-mp2-5c3-mp2-3fc", 4, 8, spec.IN_STATIC, True),
    ("1x9x9-3c3-mp2-4fc", 3, 3, spec.IN_STATIC, True),
    ("2x10x10-4c3s2p1-5c3p1-mp2-4fc", 5, 1, spec.IN_TEMPORAL, True),
    ("3x8x8-5c3p1-mp2-6c2-2fc", 2, 8, spec.IN_STATIC, False),
    ("1x12x12-4c3p1-6c3p1-mp2-5c3-mp2-3fc", 4, 8, spec.IN_STATIC, (False, True, False)),   # IF/LIF per layer
]


def _randomize(net, rng):
    """Random weights/biases/thresholds/scales, so that the integer values cover many cases."""
    torch.manual_seed(int(rng.integers(1 << 30)))
    with torch.no_grad():
        for l in net.layers:
            l.theta_w.normal_(0, 1)
            l.theta_b.normal_(0, 1)
            l.scale.uniform_(0.1, 0.6)
            if l.in_scale != 1.0:
                l.scale.mul_(l.in_scale)
            vmax = int(2.5 / l.in_scale) if l.in_scale != 1.0 else 8    # integer thresholds that let some neurons fire
            l.vth.copy_(l.scale.expand(l.shape.co) * torch.randint(0, vmax, (l.shape.co,)).float())


def _frames(rng, net, n):
    c, h, w = net.shapes[0].in_shape
    if net.in_kind == spec.IN_STATIC:
        return rng.integers(0, 256, (n, c, h, w)).astype(np.uint8)
    return (rng.random((n, net.timesteps, c, h, w)) < 0.3).astype(np.uint8)


@pytest.mark.parametrize("notation,T,bits,kind,leak", CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_torch_equals_golden(notation, T, bits, kind, leak, seed):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    net = build(notation, timesteps=T, in_bits=bits, in_kind=kind, leak=leak)
    net.set_integer(True)
    _randomize(net, rng)
    net.eval()
    model = export.to_artifact(net, remove=False)
    flags = [leak] * (len(net.shapes) - 1) if isinstance(leak, bool) else list(leak)
    assert [l.shape.leak for l in model.layers[:-1]] == flags       # the artifact carries each layer's flag
    images = _frames(rng, net, 7)
    tr = golden.Trace()
    gacc = golden.forward(model, images, trace=tr)
    with torch.no_grad():
        _, acc, rec = net(export.torch_input(images, net), record=True)
    assert np.array_equal(acc.round().long().numpy(), gacc)
    fired = []
    for i, s in enumerate(net.shapes):
        cur = rec["currents"][i]
        cur = cur.permute(0, 1, 3, 4, 2) if cur.dim() == 5 else cur[:, :, None, None, :]
        assert np.array_equal(cur.round().long().numpy(), tr.currents[i]), f"layer {i} currents"
        mem = rec["membranes"][i]
        mem = mem.permute(0, 1, 3, 4, 2) if mem.dim() == 5 else mem[:, :, None, None, :]
        assert np.array_equal(mem.round().long().numpy(), tr.membranes[i]), f"layer {i} membranes"
        if not s.readout:
            sp = rec["spikes"][i].permute(0, 1, 3, 4, 2)
            assert np.array_equal(sp.round().long().numpy(), tr.spikes[i]), f"layer {i} spikes"
            fired.append(int(tr.spikes[i].sum()))
    assert all(fired), f"every layer should fire somewhere for a meaningful check: {fired}"
    tp, _ = export.torch_predict(net, images)
    assert np.array_equal(tp, golden.predict(gacc))


def test_channel_removal_keeps_predictions():
    rng = np.random.default_rng(5)
    torch.manual_seed(5)
    net = build("1x12x12-6c3p1-mp2-6c3p1-mp2-3fc", timesteps=4, in_bits=8)
    net.set_integer(True)
    _randomize(net, rng)
    with torch.no_grad():            # kill some channels: zero kernel, negative bias -> removable
        for l, dead in zip(net.layers[:2], ([1, 4], [0, 2, 5])):
            l.theta_w[dead] = -1.0
            l.theta_b[dead] = -1.0
            l.sign_b[dead] = 1.0
    net.eval()
    full = export.to_artifact(net, remove=False)
    small = export.to_artifact(net, remove=True)
    assert [l.shape.co for l in small.layers] == [4, 3, 3]
    assert small.layers[1].shape.ci == 4 and small.layers[2].shape.ci == 3
    assert small.notation == full.notation
    images = _frames(rng, net, 20)
    np.testing.assert_array_equal(golden.run(full, images)[1], golden.run(small, images)[1])
    export.verify(net, small, images)


def test_bias_alone_fires():
    assert not export.bias_alone_fires(-3, 0, 4, True)
    assert not export.bias_alone_fires(2, 5, 4, True)      # V: 1, 1, 1, 1 (floor) never > 5
    assert export.bias_alone_fires(6, 3, 4, True)          # H = 3, 4 > 3
    assert export.bias_alone_fires(6, 4, 4, True)          # H = 3, 4, 5 > 4
    assert not export.bias_alone_fires(6, 5, 4, True)      # H = 3, 4, 5, 5: never > 5
