"""bench/run.py --quick into a temporary folder: the results' schema and consistency (issue 16). Checks no
speed target."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "artifacts", "mnist-scnn5", "model.ffs")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if not os.path.exists(MODEL):
        pytest.skip("no trained model artifact")
    out = tmp_path_factory.mktemp("bench")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run.py"), "--quick", "--out", str(out)],
                   cwd=ROOT, check=True)
    with open(out / "results.json") as f:
        return json.load(f), out


def positive(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0


@pytest.mark.slow
def test_outputs_and_schema(results):
    res, out = results
    for name in ("results.json", "RESULTS.md", "pareto.png", "sparsity.png", "layers.png"):
        assert (out / name).stat().st_size > 0, name
    assert {"meta", "figures", "pareto", "sparsity", "layers", "paper"} <= set(res)
    assert res["meta"]["quick"] is True and positive(res["meta"]["wall_seconds"])
    assert res["figures"]
    for f in res["figures"]:
        assert {"name", "value", "unit", "source", "command"} <= set(f), f
        assert f["source"] in ("measured", "recorded", "predicted") and f["unit"] and f["command"], f
        if f.get("zero_ok"):
            assert f["value"] >= 0, f
        else:
            assert positive(f["value"]), f
    text = (out / "RESULTS.md").read_text()
    assert "FireFly-S" in text and "not yet measured" in text and "logic-only" in text


@pytest.mark.slow
def test_pareto_consistent(results):
    res, _ = results
    pts = res["pareto"]
    assert len(pts) >= 2
    keys = ("cycles_per_frame", "latency_cycles", "bound_cycles_per_frame", "utilisation", "predicted_luts",
            "budget_luts", "frames", "fps_at_accel_clock", "matched_pairs_per_frame")
    for p in pts:
        assert all(positive(p[k]) for k in keys), p
        assert p["utilisation"] <= 1 and p["readout_exact"] is True
    budgets = [p["budget_luts"] for p in pts]
    assert budgets == sorted(budgets)
    cycles = [p["cycles_per_frame"] for p in pts]
    assert all(b <= a for a, b in zip(cycles, cycles[1:])), cycles      # more LUTs: no more cycles
    for l in res["layers"]["layers"]:
        assert 0 <= l["stall_fraction"] <= 1 and 0 < l["busy_fraction"] <= 1 and l["rtl_pairs_per_frame"] == l["golden_pairs_per_frame"]


@pytest.mark.slow
def test_sparsity_consistent(results):
    res, _ = results
    rows = res["sparsity"]
    assert len(rows) >= 2 and len({r["parallelism"] for r in rows}) == 1
    for r in rows:
        assert positive(r["cycles_per_frame"]) and positive(r["matched_pairs_per_frame"]) and r["utilisation"] <= 1
        assert 0 <= r["weight_sparsity"] < 1
    dense = min(rows, key=lambda r: r["weight_sparsity"])
    assert dense["weight_sparsity"] == 0
    assert all(dense["cycles_per_frame"] >= r["cycles_per_frame"] for r in rows)
    assert all(dense["matched_pairs_per_frame"] >= r["matched_pairs_per_frame"] for r in rows)


@pytest.mark.slow
def test_models_stage_rows(results):
    res, out = results
    rows = res["models"]
    assert rows and {r["part"] for r in rows} and all(r["readout_exact"] is True for r in rows)
    for r in rows:
        assert all(positive(r[k]) for k in ("cycles_per_frame", "latency_cycles", "predicted_luts", "frames",
                                            "matched_pairs_per_frame")), r
        assert isinstance(r["fits"], bool) and r["utilisation"] <= 1 and 0 < r["weight_sparsity"] < 1
    assert "## Every model on every build" in (out / "RESULTS.md").read_text()


def test_bad_stage_is_one_line():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run.py"), "--stages", "pareto,nope"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--stages pareto,nope" in r.stderr and "Traceback" not in r.stderr
