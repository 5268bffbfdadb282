"""Automatic parallelism: respects the budget, balances the stages, reports cycles and the bound."""
from sw import random_model
from soc.accel.balance import Budget, balance


def test_balance_budget_and_report():
    m = random_model.make("1x12x12-8c3p1-mp2-16c3p1-mp2-10fc", 0.9, seed=4)
    small = balance(m, Budget(luts=3000, brams=10))
    big = balance(m, Budget(luts=30000, brams=50))
    assert small.luts <= 3000 and big.luts <= 30000
    assert big.cycles < small.cycles
    for b in (small, big):
        assert len(b.parallelism) == 3 and b.bound > 0 and b.cycles > 0
        assert max(b.per_layer) == b.cycles
    # the bottleneck is shared: no stage is more than ~3x faster than the slowest one it could help
    assert min(big.per_layer[:2]) > 0


def test_budget_parts():
    import pytest
    from soc.accel.balance import PARTS, SOC_LUTS, Budget
    assert Budget() == Budget.for_part("a7-35")
    small, big = Budget.for_part("a7-35"), Budget.for_part("a7-100")
    assert small.luts + SOC_LUTS <= PARTS["a7-35"][0] and big.luts > 3 * small.luts
    with pytest.raises(ValueError, match="unknown part"):
        Budget.for_part("a7-200")


def test_calibration_frames_match_the_model():
    from soc.accel.balance import calibration_frames
    mnist_like = random_model.make("1x28x28-4c3p1-mp2-10fc", 0.5, seed=1)
    other = random_model.make("1x12x12-4c3p1-mp2-10fc", 0.5, seed=1)
    frames = calibration_frames(mnist_like)
    assert frames is not None and frames.shape[-3:] == (1, 28, 28) and len(frames) == 16
    assert calibration_frames(other) is None
    assert calibration_frames(other, "mnist") is None       # a data set whose frames do not fit


def test_ecp5_parts_count_lut4_and_dp16kd():
    from soc.accel.balance import ECP5_SOC_LUT4, PARTS, Budget, family
    b85, b45 = Budget.for_part("lfe5u-85"), Budget.for_part("lfe5u-45")
    assert b85.family == b45.family == "ecp5" and Budget().family == "xc7" == family("a7-100")
    assert b85.luts == int(83_640 * 0.70) - ECP5_SOC_LUT4 and PARTS["lfe5u-85"][:2] == (83_640, 208.0)
    assert PARTS["lfe5u-45"][:2] == (43_848, 108.0) and b45.luts < b85.luts / 2


def test_dp16kd_blocks_follow_yosys_memory_libmap():
    """LUT RAM or block RAM as yosys chose for SCNN5 at 1x2,1x8,1x16,1x24,1x24,1x24 (its mapping log;
    31 DP16KD measured, 32 predicted); block counts are the cheapest aspect ratio."""
    from soc.accel.balance import dp16kd_blocks
    assert dp16kd_blocks(8, 128) == 0 and dp16kd_blocks(116, 32) == 0 and dp16kd_blocks(208, 32) == 0  # LUT RAM
    assert dp16kd_blocks(24, 128) == 1 and dp16kd_blocks(18, 112) == 1 and dp16kd_blocks(64, 64) == 2
    assert dp16kd_blocks(32, 3744) == 8 and dp16kd_blocks(38, 572) == 3


def test_balance_for_ecp5_stays_in_its_budget():
    from soc.accel.balance import layer_cost
    from soc.accel.config import AccelConfig
    m = random_model.make("1x12x12-8c3p1-mp2-16c3p1-mp2-10fc", 0.9, seed=4)
    small = balance(m, Budget(luts=8000, brams=10, family="ecp5"))
    big = balance(m, Budget(luts=40000, brams=50, family="ecp5"))
    assert small.luts <= 8000 and big.luts <= 40000 and big.cycles < small.cycles
    cfg = AccelConfig.from_model(m, big.parallelism)
    assert abs(sum(layer_cost(l, "ecp5")[0] for l in cfg.layers) - big.luts) <= 1
    # the same budget number buys less in LUT4 than in xc7 LUTs
    assert balance(m, Budget(luts=8000, brams=10)).cycles <= small.cycles


def test_balance_and_config_do_not_import_each_other():
    from pathlib import Path
    import soc.accel.config as config
    src = Path(config.__file__).read_text()
    assert "import balance" not in src and "from .balance" not in src and "soc.accel.balance import" not in src


def test_detector_bound_is_the_busiest_detector():
    """Detector d serves channels d, PCo + d, ...: the detector bound is the largest such sum, never below
    the even spread work / PCo, and equal to it when every channel carries the same work."""
    import numpy as np
    from sw import golden
    from soc.accel.balance import detector_work, predict
    from soc.accel.config import AccelConfig
    assert detector_work([5, 1, 2, 7, 3], 2) == 10          # detector 0: 5 + 2 + 3; detector 1: 1 + 7
    assert detector_work([5, 1, 2, 7, 3], 5) == 7
    assert detector_work([4, 4, 4, 4], 2) == 8 == 16 / 2
    m = random_model.make("1x12x12-8c3p1-mp2-16c3p1-mp2-10fc", 0.9, seed=4)
    images = random_model.random_inputs(np.random.default_rng(1), m.shapes, 6, m.timesteps, m.in_kind)
    _, _, st = golden.run(m, images)
    for par in ([(1, 9), (1, 8), (1, 16)], [(8, 9), (5, 8), (10, 16)]):
        p = predict(m, AccelConfig.from_model(m, par), st, len(images))
        assert p["detector_bound"] >= p["bound"] - 1e-9
        if par[0][0] == 1:      # one detector per layer: it does all the work
            assert p["detector_bound"] == p["bound"]
