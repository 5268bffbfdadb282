"""SimResult's two throughput figures, on made-up completion times (no Verilator): the steady state (second
half of each shard) and the mean interval over every frame but each shard's first, which covers the same
frames whatever --jobs is."""
import numpy as np

from soc.accel.rtlsim import SimResult


def result(done, start=0, sizes=()):
    n = len(done)
    r = SimResult(0, 0, np.zeros((n, 10), np.int64), np.zeros(n, np.int64), np.asarray(done, np.int64),
                  [], int(done[-1]) if n else 0, start)
    r.shard_sizes = sizes
    return r


def test_one_shard():
    r = result([100, 110, 130, 160, 200])           # intervals 10, 20, 30, 40
    assert r.mean_interval_cycles == 25.0
    assert r.cycles_per_frame == 35.0               # frames 2..4: (200 - 130) / 2
    assert r.latency_cycles == 100


def test_shards_skip_each_first_frame():
    # two shards, each starting from its own cleared counters: the gap between them is not an interval
    r = result([100, 110, 130, 100, 140, 150], sizes=(3, 3))     # intervals 10, 20 | 40, 10
    assert r.mean_interval_cycles == 20.0
    # the same six frames in one shard count the frames between, so the figure differs only by the heads
    assert result([100, 110, 130, 170, 210, 220]).mean_interval_cycles == 24.0


def test_short_shards():
    assert result([100]).mean_interval_cycles == 100.0               # one frame: the latency
    assert result([100, 120, 90], sizes=(2, 1)).mean_interval_cycles == 20.0
