"""Soak in litex_sim (issue 14): 200 consecutive real MNIST test frames through the console firmware and
the accelerator, with a `reset` + reload of the model in the middle, at 100% agreement with the golden
model. The SoC is the one tests/soc/test_sim_e2e.py builds (the same accelerator config: one cached
Verilator build). The 1,000-frame version is bench/soak.py."""
from pathlib import Path

import pytest

from soc.sim_soak import plan, soak

ROOT = Path(__file__).resolve().parents[2]
TRAINED = ROOT / "artifacts" / "mnist-scnn5" / "model.ffs"


def test_plan_spreads_reloads_and_bounds_batches():
    assert plan(200, 100, 1) == [(0, 100, False), (100, 100, True)]
    assert plan(10, 4, 2) == [(0, 3, False), (3, 3, True), (6, 4, True)]
    assert plan(5, 100, 0) == [(0, 5, False)]
    with pytest.raises(ValueError):
        plan(1, 100, 1)


@pytest.mark.slow
def test_soak_200_frames_with_a_reload():
    rep = soak(TRAINED, "mnist", frames=200, reloads=1, chunk=50, log=print)
    print(rep)
    assert rep["frames"] == 200 and rep["reloads"] == 1 and rep["batches"] == 4
    assert rep["mismatches"] == 0 and rep["agreement"] == 1.0
    assert rep["accuracy"] > 0.95
