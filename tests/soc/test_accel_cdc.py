"""AccelCDC (soc/accel_cdc.py) in a Migen simulation with two unrelated clocks: a real AccelCore of a
small random network runs in `accel`, load/frames/results cross through the AsyncFIFOs with random
stalls on the sys side, and the results, the latched counters and the reset agree with the golden model."""
import random

import numpy as np
from migen import run_simulation

from soc.accel.config import AccelConfig
from soc.accel.core import AccelCore
from soc.accel import loadimage
from soc.accel.simutil import Timeout, ready_driver, send
from soc.accel_cdc import AccelCDC
from sw import frames, golden, random_model

TOPO = "1x5x5-2c3p1-3fc"
N_FRAMES = 3
CLOCKS = {"sys": 10, "accel": 6}        # periods: accel is 5/3 as fast, and the edges drift apart
LIMIT = 200_000                         # sys cycles for any wait


def wait(sig, value, what):
    for _ in range(LIMIT):
        if (yield sig) == value:
            return
        yield
    raise Timeout(f"{what}: still {1 - value} after {LIMIT} sys cycles")


def pulse(sig):
    yield sig.eq(1)
    yield
    yield sig.eq(0)
    yield


def test_results_counters_and_reset_cross_two_clocks():
    model = random_model.make(TOPO, 0.5, timesteps=2, in_bits=2, seed=3, spike_density=0.4)
    cfg = AccelConfig.from_model(model, [(2, 5), (3, 9)])
    images = random_model.random_inputs(np.random.default_rng(3), model.shapes, N_FRAMES, 2, model.in_kind)
    preds, readout, stats = golden.run(model, images)
    load = [{"data": int(w), "first": int(i == 0)} for i, w in enumerate(loadimage.build(model, cfg))]
    words = [int(w) for w in frames.pack(images, model.in_kind, model.timesteps).reshape(-1)]
    per = cfg.frame_words
    frame_items = [{"data": w, "last": int(i % per == per - 1)} for i, w in enumerate(words)]
    dut = AccelCDC(AccelCore(cfg), fifo_depth=4)
    rng = random.Random(5)
    got, log = [], {}

    def collect(n_words):
        for _ in range(LIMIT):
            if (yield dut.results.valid) and (yield dut.results.ready):
                got.append(((yield dut.results.data), (yield dut.results.last)))
                if len(got) == n_words:
                    return
            yield
        raise Timeout(f"results: {len(got)} of {n_words} words after {LIMIT} sys cycles")

    def latch():
        yield from pulse(dut.latch)
        yield from wait(dut.counters_valid, 1, "counters_valid after latch")

    def sys_side():
        yield from wait(dut.resetting, 0, "power-on reset")
        yield from send(dut.load, load, rng, stall=0.2, what="load")
        yield from wait(dut.load_done, 1, "load_done")
        assert (yield dut.load_error) == 0
        yield from pulse(dut.clear)
        yield dut.running.eq(1)
        yield from send(dut.frames, frame_items, rng, stall=0.3, what="frames")
        yield from collect(N_FRAMES * cfg.result_words)
        yield from wait(dut.idle, 1, "idle after the last result")
        yield dut.running.eq(0)
        for _ in range(20):
            yield
        pairs = []
        for layer in range(len(cfg.layers)):
            yield dut.layer_sel.eq(layer)
            yield
            yield from latch()
            pairs.append((yield dut.layer_pairs))
        log.update(pairs=pairs, cycles=(yield dut.cycles), run=(yield dut.run_cycles))
        yield from pulse(dut.reset)
        assert (yield dut.resetting) == 1 and (yield dut.load_done) == 0
        yield from wait(dut.resetting, 0, "soft reset")
        for _ in range(20):
            yield
        log["after_reset"] = ((yield dut.load_done), (yield dut.idle))

    run_simulation(dut, {"sys": [sys_side(), ready_driver(dut.results, rng, stall=0.3)]}, clocks=CLOCKS)
    assert len(got) == N_FRAMES * cfg.result_words
    rw = cfg.result_words
    for f in range(N_FRAMES):
        frame = got[f * rw:(f + 1) * rw]
        assert frame[0][0] == preds[f]
        assert [np.int32(np.uint32(d)) for d, _ in frame[1:]] == readout[f].tolist()
        assert [l for _, l in frame] == [0] * (rw - 1) + [1], "`last` crossed with its word"
    assert log["pairs"] == [s.matched_pairs for s in stats]
    assert 0 < log["run"] <= log["cycles"], log
    assert log["after_reset"] == (0, 1)
