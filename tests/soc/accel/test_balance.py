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
