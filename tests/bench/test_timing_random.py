"""bench/timing_random.py: a synthesis that fails (the WebAssembly yosys out of its 4 GB on a large random
model, as met on 2026-11-30) is recorded and the sample goes on; no model synthesized is exit 1, not a
traceback. The real synthesis is exercised by `python bench/timing_random.py` itself (minutes per model)."""
from soc.synth_estimate import SynthError


def test_failed_synthesis_is_recorded_not_a_traceback(bench_module, monkeypatch, tmp_path, capsys):
    mod = bench_module("timing_random")

    def fail(cfg, keep=None):
        raise SynthError("yosys synth_xilinx failed in build/x:\nout of memory")
    monkeypatch.setattr(mod, "synthesize", fail)
    assert mod.main(["--n", "1", "--json", str(tmp_path / "r.json")]) == 1
    out = capsys.readouterr()
    assert "synthesis failed: yosys synth_xilinx failed" in out.out and "no synthesis finished" in out.err


def test_over_budget_model_is_skipped_not_synthesized(bench_module, monkeypatch, tmp_path, capsys):
    """A topology whose smallest build balance() predicts over the random budget and the A7-100T's
    (2026-11-30: an fc over a 46x22x22 map, 92k LUTs predicted against 13k, which also ran yosys out of
    memory) is no accelerator a target holds: it is recorded as skipped, and yosys is not run."""
    mod = bench_module("timing_random")
    real = mod.balance

    def over(model, budget):
        b = real(model, budget)
        b.luts = 10 ** 6
        return b

    def never(cfg, keep=None):
        raise AssertionError("synthesized an over-budget build")
    monkeypatch.setattr(mod, "balance", over)
    monkeypatch.setattr(mod, "synthesize", never)
    assert mod.main(["--n", "1", "--json", str(tmp_path / "r.json")]) == 1
    out = capsys.readouterr().out
    assert "not synthesized: the smallest build is predicted at 1,000,000 LUTs" in out and "A7-100T" in out
