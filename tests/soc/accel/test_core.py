"""Whole-accelerator Verilator runs against the golden model: random small topologies, real MNIST
frames, dense vs pruned weights on the same hardware, and images the hardware must refuse."""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sw import frames, golden, random_model, spec
from sw.artifact import Model
from soc.accel import loadimage as li
from soc.accel.config import AccelConfig
from soc.accel.rtlsim import build, simulate

ROOT = Path(__file__).resolve().parents[3]
MNIST_MODEL = ROOT / "artifacts" / "mnist-scnn5" / "model.ffs"


def run(model, cfg, images, stall=0, words=None):
    lw = li.build(model, cfg) if words is None else words
    return simulate(cfg, lw, frames.pack(images, model.in_kind, model.timesteps), stall_pct=stall, seed=7)


def check_exact(model, cfg, images, stall=0):
    r = run(model, cfg, images, stall)
    preds, readout, stats = golden.run(model, images)
    assert r.status == 0, f"simulation status {r.status}, load_error {r.load_error}"
    assert np.array_equal(r.readout, readout), "readout accumulators differ from the golden model"
    assert np.array_equal(r.predictions, preds)
    assert [c["pairs"] for c in r.counters] == [s.matched_pairs for s in stats]
    return r, stats


@st.composite
def topologies(draw):
    temporal = draw(st.booleans())
    c, h, w = draw(st.integers(1, 2)), draw(st.integers(5, 8)), draw(st.integers(5, 8))
    toks, ch, hh, ww = [f"{c}x{h}x{w}"], c, h, w
    for _ in range(draw(st.integers(1, 2))):
        k = draw(st.integers(1, min(3, hh, ww)))
        s = draw(st.integers(1, 2))
        p = draw(st.integers(0, k - 1))
        co = draw(st.integers(2, 6))
        hh, ww = (hh + 2 * p - k) // s + 1, (ww + 2 * p - k) // s + 1
        tok = f"{co}c{k}" + (f"s{s}" if s > 1 else "") + (f"p{p}" if p else "")
        if hh >= 2 and ww >= 2 and draw(st.booleans()):
            tok += "-mp2"
            hh, ww = hh // 2, ww // 2
        toks.append(tok)
        if hh < 2 or ww < 2:
            break
    toks.append(f"{draw(st.integers(2, 5))}fc")
    notation = "-".join(toks)
    T = draw(st.integers(1, 4))
    sparsity = draw(st.sampled_from([0.0, 0.5, 0.8]))
    seed = draw(st.integers(0, 1000))
    return notation, temporal, T, sparsity, seed


@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(topologies(), st.data())
def test_random_topologies(topo, data):
    notation, temporal, T, sparsity, seed = topo
    kind = spec.IN_TEMPORAL if temporal else spec.IN_STATIC
    m = random_model.make(notation, sparsity, timesteps=T, in_bits=1 if temporal else data.draw(st.integers(1, 8)),
                          in_kind=kind, seed=seed, spike_density=0.3)
    par = [(data.draw(st.integers(1, l.shape.co)), data.draw(st.integers(1, min(l.shape.fan_in, 40))))
           for l in m.layers]
    cfg = AccelConfig.from_model(m, par)
    images = random_model.random_inputs(np.random.default_rng(seed), m.shapes, 6, T, kind)
    check_exact(m, cfg, images, stall=25)


def mnist_model():
    if MNIST_MODEL.exists():
        return Model.load(MNIST_MODEL)
    from sw.datasets import load
    return random_model.make("scnn5", 0.9382, calib=load("mnist", "train").images[:64])


def test_mnist_scnn5_agreement():
    from sw.datasets import load
    from soc.accel.balance import balance
    m = mnist_model()
    ds = load("mnist", "test")
    cfg = AccelConfig.from_model(m, balance(m, images=load("mnist", "train").images[:16]).parallelism)
    r, _ = check_exact(m, cfg, ds.images[:64], stall=10)
    print(f"MNIST SCNN5: 64 frames bit-exact, {r.cycles_per_frame:.0f} cycles/frame")


def test_dense_vs_pruned_same_hardware():
    notation = "1x16x16-8c3p1-mp2-16c3p1-mp2-10fc"
    dense = random_model.make(notation, 0.0, seed=5, spike_density=0.15)
    rng = np.random.default_rng(6)
    keep = [rng.random(l.weights.shape) < 0.08 for l in dense.layers]
    pruned = Model.from_dense(dense.shapes, [np.where(k, l.weights, 0) for k, l in zip(keep, dense.layers)],
                              [l.bias for l in dense.layers], [l.vth for l in dense.layers], dense.timesteps,
                              dense.in_bits, notation=dense.notation)
    cfg = AccelConfig.from_model(dense, [(4, 9), (8, 36), (5, 64)])
    assert cfg.fits(pruned) is None
    images = random_model.random_inputs(rng, dense.shapes, 12, dense.timesteps, spec.IN_STATIC)
    rd, sd = check_exact(dense, cfg, images)
    rp, sp = check_exact(pruned, cfg, images)
    n = len(images)
    cyc_ratio = rd.cycles_per_frame / rp.cycles_per_frame
    pair_ratio = sum(s.matched_pairs for s in sd) / sum(s.matched_pairs for s in sp)
    bound = [max(s.matched_pairs / n / lc.pco for s, lc in zip(st_, cfg.layers)) for st_ in (sd, sp)]
    floor = max(lc.positions * lc.window for lc in cfg.layers)      # window reads, independent of pairs
    print(f"dense {rd.cycles_per_frame:.0f} vs pruned {rp.cycles_per_frame:.0f} cycles/frame: "
          f"{cyc_ratio:.2f}x fewer cycles for {pair_ratio:.2f}x fewer matched pairs "
          f"(pair bound max_l pairs_l/PCo_l: {bound[0]:.0f} vs {bound[1]:.0f}, floor {floor})")
    assert rp.cycles_per_frame < rd.cycles_per_frame / 3
    for r, b in zip((rd, rp), bound):      # cycles follow the matched pairs, down to the window floor
        assert r.cycles_per_frame <= 2.0 * max(b, floor), "cycles exceed what the matched pairs explain"
    assert rd.cycles_per_frame >= 0.8 * bound[0]


def test_profile_guided_build_computes_the_same():
    """--pgo: an instrumented build runs a few frames, then the model is compiled with that profile; it must be
    a build of its own (its profile files beside it) and give every readout and completion cycle of the plain one."""
    model = random_model.make("1x10x10-4c3p1-mp2-6c3p1-5fc", 0.5, seed=3, spike_density=0.2)
    cfg = AccelConfig.from_model(model, [(2, 9), (3, 12), (1, 24)])
    images = random_model.random_inputs(np.random.default_rng(4), model.shapes, 20, model.timesteps, spec.IN_STATIC)
    lw, words = li.build(model, cfg), frames.pack(images, model.in_kind, model.timesteps)
    plain, pgo = build(cfg), build(cfg, profile=(lw, words))
    assert pgo != plain and list(pgo.parent.glob("*.gcda")), "no profile-guided build"
    a, b = (simulate(cfg, lw, words, stall_pct=10, seed=7, pgo=p) for p in (False, True))
    assert a.status == b.status == 0
    assert np.array_equal(a.readout, b.readout) and np.array_equal(a.done, b.done) and a.counters == b.counters
    assert np.array_equal(b.readout, golden.run(model, images)[1])


@pytest.mark.parametrize("word,value,code", [
    (0, 0x12345678, li.ERR_MAGIC), (1, None, li.ERR_SIGNATURE), (2, 7, li.ERR_LAYERS),
    (3, None, li.ERR_TOPOLOGY), (7, 0x20202020, li.ERR_WIDTHS), (-1, 0, li.ERR_END)])
def test_hardware_refuses_bad_images(word, value, code):
    m = random_model.make("1x6x6-3c3p1-3fc", 0.5, seed=2)
    cfg = AccelConfig.from_model(m, [(2, 9), (2, 8)])
    words = li.build(m, cfg).copy()
    words[word] = (int(words[word]) ^ 1) if value is None else value
    images = random_model.random_inputs(np.random.default_rng(0), m.shapes, 1, m.timesteps, spec.IN_STATIC)
    r = run(m, cfg, images, words=words)
    assert (r.status, r.load_error) == (1, code), f"expected refusal {li.ERROR_NAMES[code]}"
    ok = run(m, cfg, images)
    assert (ok.status, ok.load_error) == (0, 0)
