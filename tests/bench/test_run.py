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


@pytest.mark.slow
def test_pareto_point_yosys_is_measured_and_on_the_page():
    """The full run's yosys per Pareto point (bench/measure.synth_point, real yosys on a small core) and
    its row on the page: the measured LUTs, FF and critical path, labelled measured."""
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import measure
    import page
    from sw import random_model
    from soc.accel.config import AccelConfig
    m = random_model.make("1x8x8-4c3p1-mp2-6c3p1-5fc", 0.8, seed=3)
    cfg = AccelConfig.from_model(m, [(2, 9), (3, 12), (1, 24)])
    y = measure.synth_point(cfg, os.path.join(ROOT, "build", "test-pareto-synth"))
    assert y["source"] == "measured" and y["lut"] > 300 and y["ff"] > 300 and 0 < y["critical_ns"] < 20
    assert "2x9,3x12,1x24" in y["command"]
    p = {"budget_luts": 1000, "parallelism": "2x9,3x12,1x24", "predicted_luts": 900, "yosys": y,
         "cycles_per_frame": 5000, "predicted_cycles_per_frame": 4800, "bound_cycles_per_frame": 4000,
         "utilisation": 0.8, "latency_cycles": 6000, "fps_at_accel_clock": 30000, "frames": 4}
    row = [line for line in page.pareto_md({"pareto": [p]}) if "2x9,3x12,1x24" in line]
    assert len(row) == 1 and f"{y['lut']:,} (+ {y['lut_mem']:,}), measured" in row[0], row
    assert f"{y['critical_ns']:.2f} ns" in row[0] and f"{y['ff']:,}" in row[0]
