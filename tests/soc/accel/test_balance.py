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
