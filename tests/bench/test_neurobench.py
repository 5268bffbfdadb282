"""NeuroBench's synaptic operations on a few MNIST frames against the golden model (issue 16).

The exact relation (bench/neurobench.py, neurobench 2.3.0): NeuroBench counts one accumulate per (non-zero
binary input, non-zero weight) pair of every Conv2d/Linear call and zeroes the bias, so with layer 0 fed its
k bit-planes

    Effective_ACs x frames = sum over layers of sw.golden's matched_pairs + 0 x bias_ops
                           = sum of sw.golden's work - sum of its bias_ops,   Effective_MACs = 0.

With layer 0 fed the k-bit pixels instead, its pairs become MACs, one per (non-zero pixel, non-zero weight).
"""
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "artifacts", "mnist-scnn5", "model.ffs")
FRAMES, BATCH = 7, 3          # a last, partial batch too


@pytest.fixture(scope="module")
def nbm(bench_module):
    if not os.path.exists(MODEL):
        pytest.skip("no trained model artifact")
    pytest.importorskip("snntorch")
    mod = bench_module("neurobench")   # under another name: "neurobench" is the package
    try:
        mod.neurobench_api()
    except ImportError as e:
        pytest.skip(f"neurobench not installed: {e}")
    return mod


@pytest.fixture(scope="module")
def measured(nbm):
    from sw import golden
    from sw.artifact import Model
    from sw.datasets import load
    r = nbm.measure(MODEL, FRAMES, batch=BATCH, progress=False)
    model = Model.load(MODEL)
    images = load("mnist", "test").images[:FRAMES]
    return r, golden.run(model, images), model, images


def test_effective_acs_equal_golden_matched_pairs(measured):
    r, (_, _, stats), _, _ = measured
    raw = r["neurobench"]["raw"]
    pairs = sum(st.matched_pairs for st in stats)
    bias_ops = sum(st.bias_ops for st in stats)
    assert pairs > 0 and bias_ops > 0
    assert raw["samples"] == FRAMES
    assert raw["AC"] == pairs + 0 * bias_ops == sum(st.work for st in stats) - bias_ops
    assert raw["MAC"] == 0 and r["neurobench"]["effective_macs_per_frame"] == 0
    assert r["neurobench"]["effective_acs_per_frame"] == pairs / FRAMES
    assert all(r["checks"].values()), r["checks"]


def test_layer0_on_pixels_counts_macs(measured):
    from sw import spec
    r, (_, _, stats), model, images = measured
    raw = r["neurobench_pixels"]["raw"]
    assert raw["AC"] == sum(st.matched_pairs for st in stats[1:])           # layers 1.. unchanged
    assert r["neurobench"]["raw"]["AC"] - raw["AC"] == stats[0].matched_pairs  # layer 0's bit-plane pairs
    # layer 0 on pixels: one MAC per (non-zero pixel, non-zero weight) pair; the 3x3 pad-1 conv, written out
    q = spec.quantize_input(images, model.in_bits)[:, 0] != 0                 # [N, 28, 28]
    nzw = model.layers[0].weights[..., 0] != 0                                 # [co, 3, 3]
    qp = np.pad(q, ((0, 0), (1, 1), (1, 1)))
    macs = sum(int(nzw[:, kh, kw].sum()) * int(qp[:, kh:kh + 28, kw:kw + 28].sum()) for kh in range(3) for kw in range(3))
    assert raw["MAC"] == macs > 0


def test_activations_and_static_metrics(measured):
    r, (_, _, stats), model, _ = measured
    raw, nb = r["neurobench"]["raw"], r["neurobench"]
    firing = stats[:-1]
    assert raw["layer_spikes"] == [st.spikes_out for st in firing]
    assert raw["layer_neurons"] == [st.neurons_out for st in firing]
    assert nb["activation_sparsity_by_layer"] == [(st.neurons_out - st.spikes_out) / st.neurons_out for st in firing]
    nonzero = sum(int(np.count_nonzero(l.weights)) for l in model.layers)
    total = sum(l.weights.size for l in model.layers)
    assert nb["connection_sparsity"] == round((total - nonzero) / total, 4)
    assert nb["parameter_count"] == total + sum(l.shape.co for l in model.layers)     # weights + biases
    assert nb["footprint_bytes"] >= 4 * nb["parameter_count"]


def test_inexact_model_is_refused(nbm, monkeypatch):
    build = nbm.build_net

    def off_by_one(model, planes=True):
        net, lif = build(model, planes)
        net.connections[-1].bias.data[0] += 1         # readout bias + 1: every frame's accumulator changes
        return net, lif
    monkeypatch.setattr(nbm, "build_net", off_by_one)
    with pytest.raises(RuntimeError, match="differs from sw.golden on 2 of 2 frames"):
        nbm.measure(MODEL, 2, batch=2, progress=False, pixels=False)


def test_cli_bad_input_is_one_line(nbm):
    for args in (["--frames", "0"], ["--model", "nope.ffs"], ["--frames", "10001"]):
        p = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "neurobench.py"), *args], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode in (1, 2) and len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)
