import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sw import golden, spec
from sw.artifact import Model
from sw.random_model import random_inputs, random_weights
from sw.topology import parse

from reference import reference_forward


@st.composite
def small_models(draw):
    """Random small topologies in notation, random pruned weights, biases, thresholds and inputs."""
    temporal = draw(st.booleans())
    c = 2 if temporal else draw(st.integers(1, 3))
    h = draw(st.integers(4, 9))
    w = draw(st.integers(4, 9))
    toks, ch, cw = [f"{c}x{h}x{w}"], h, w
    for _ in range(draw(st.integers(1, 3))):
        k = draw(st.sampled_from([1, 2, 3]))
        s = draw(st.sampled_from([1, 1, 2]))
        p = draw(st.integers(0, k - 1))
        oh, ow = (ch + 2 * p - k) // s + 1, (cw + 2 * p - k) // s + 1
        if oh < 1 or ow < 1:
            break
        tok = f"{draw(st.integers(1, 5))}c{k}" + (f"s{s}" if s > 1 else "") + (f"p{p}" if p else "")
        ch, cw = oh, ow
        if oh >= 2 and ow >= 2 and draw(st.booleans()):
            tok += "-mp2"
            ch, cw = oh // 2, ow // 2
        toks.append(tok)
    if draw(st.booleans()):
        toks.append(f"{draw(st.integers(1, 6))}fc")   # a firing fc layer
    toks.append(f"{draw(st.integers(2, 5))}fc")
    leak = draw(st.booleans())
    shapes = parse("-".join(toks), leak=leak)
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    T = draw(st.integers(1, 4))
    bits = 1 if temporal else draw(st.integers(1, 8))
    density = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    ws = [random_weights(rng, (l.co, l.kh, l.kw, l.ci), density) for l in shapes]
    bs = [rng.integers(-20, 21, size=l.co) for l in shapes]
    vth = [rng.integers(0, 30, size=l.co) for l in shapes]
    kind = spec.IN_TEMPORAL if temporal else spec.IN_STATIC
    model = Model.from_dense(shapes, ws, bs, vth, T, bits, kind, "-".join(toks))
    x = random_inputs(rng, shapes, draw(st.integers(1, 3)), T, kind)
    return model, x


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_models())
def test_golden_equals_plain_loop_reference(case):
    model, x = case
    got = golden.forward(model, x)
    want = reference_forward(model, x)
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(golden.predict(got), np.argmax(want, axis=1))


def test_argmax_ties_go_to_lowest_index():
    assert golden.predict(np.array([[3, 7, 7, 1], [0, 0, 0, 0], [-5, -2, -2, -9]])).tolist() == [1, 0, 1]


def test_lif_floor_strict_threshold_and_hard_reset():
    """One neuron, 1x1 conv, T=5: check the update H = (V+I)>>1, spike iff H > Vth, reset to 0."""
    shapes = parse("1x1x1-1c1-1fc")
    # weight 1 on a static 8-bit input q = p (k = 8); bias -1; Vth = 4
    m = Model.from_dense(shapes, [np.array([1]), np.array([1])], [np.array([-1]), np.array([0])],
                         [np.array([4]), None], timesteps=5, in_bits=8)
    tr = golden.Trace()
    golden.forward(m, np.array([[[[12]]]], np.uint8), trace=tr)
    # I = 11 each step: H = 5 (>4 spike, V=0), 5 spike, ... -> all spikes
    assert tr.spikes[0].reshape(-1).tolist() == [1, 1, 1, 1, 1]
    golden.forward(m, np.array([[[[8]]]], np.uint8), trace=(tr := golden.Trace()))
    # I = 7: H = 3, V=3; H = (3+7)>>1 = 5 > 4 spike; V=0; H = 3; 5 spike; 3
    assert tr.spikes[0].reshape(-1).tolist() == [0, 1, 0, 1, 0]
    assert tr.membranes[0].reshape(-1).tolist() == [3, 0, 3, 0, 3]
    golden.forward(m, np.array([[[[0]]]], np.uint8), trace=(tr := golden.Trace()))
    # I = -1: H = (0-1)>>1 = -1 (floor, not 0), then (-1-1)>>1 = -1 ...
    assert tr.membranes[0].reshape(-1).tolist() == [-1, -1, -1, -1, -1]


def test_work_counts_matched_pairs_and_bias_ops():
    shapes = parse("1x3x3-2c3p1-2fc")
    w0 = np.zeros((2, 3, 3, 1), np.int8)
    w0[0, 1, 1, 0] = 3                      # only the centre tap of channel 0
    w1 = np.ones((2, 3, 3, 2), np.int8)
    m = Model.from_dense(shapes, [w0, w1], [np.zeros(2), np.zeros(2)], [np.zeros(2), None], 2, 2)
    img = np.zeros((1, 1, 3, 3), np.uint8)
    img[0, 0, 0, 0] = 255                   # q = 3 = planes 0 and 1 set at one pixel
    preds, _, stats = golden.run(m, img)
    # layer 0: the centre tap meets the lit pixel only at output (0,0): 2 planes -> 2 pairs, once
    assert stats[0].matched_pairs == 2
    assert stats[0].bias_ops == 2 * 9       # computed once for a static layer 0
    assert stats[1].bias_ops == 2 * 2       # 2 classes x T=2
    # per channel: channel 0 holds both pairs, each channel 9 bias operations
    assert stats[0].channel_work.tolist() == [2 + 9, 0 + 9]
    assert all(s.channel_work.sum() == s.work for s in stats)


def test_golden_rejects_wrong_input_shape():
    m = Model.from_dense(parse("1x4x4-2c3-2fc"), [np.ones((2, 3, 3, 1)), np.ones((2, 2, 2, 2))],
                         [np.zeros(2)] * 2, [np.zeros(2), None], 2, 8)
    with pytest.raises(ValueError, match="expects"):
        golden.forward(m, np.zeros((1, 1, 5, 5), np.uint8))
