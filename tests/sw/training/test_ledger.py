"""The lever ledger (`python -m sw.training.ledger`): what counts as a lever, which run is whose control."""
import json
from dataclasses import asdict

from sw.training import ledger
from sw.training.config import Config


def report(folder, name, acc, seed=0, floss=(0.3, 0.1), split="val", dataset="mnist", drop=(), **cfg):
    """A report.json as run.py writes it, reduced to the fields the ledger reads."""
    c = {**asdict(Config()), "seed": seed, "val_split": 5000, **cfg}
    for k in drop:
        del c[k]
    r = {"dataset": dataset, "seed": seed, "eval_split": split, "config": c,
         "accuracy": {"deployed": acc}, "weight_sparsity_deployed_shapes": 0.941,
         "history": [{"phase": "float", "epoch": i + 1, "train_loss": x} for i, x in enumerate(floss)]
         + [{"phase": "joint", "epoch": 1, "train_loss": 0.05}]}
    (folder / name).mkdir(parents=True)
    (folder / name / "report.json").write_text(json.dumps(r))


def by_name(runs):
    return {r["name"]: r for r in runs}


def test_lever_is_the_difference_from_todays_defaults():
    d = asdict(Config())
    assert ledger.lever(d) == frozenset()
    assert ledger.lever({**d, "seed": 3, "device": "cuda", "threads": 1, "data_root": "x", "val_split": 5000}) == frozenset()
    assert ledger.lever({**d, "distill": 0.5}) == {("distill", 0.5)}
    old = {k: v for k, v in d.items() if k not in ("sparsity_count", "batch_joint", "lsq_grad")}
    # keys added later: a changed default trained with its old value, a new option as today's default
    assert ledger.lever(old) == {("sparsity_count", "nominal"), ("batch_joint", 0)}
    kd = ledger.lever({**d, "distill": 0.5, "teacher": "build/t/mnist-val5000.pt"})
    assert ledger.label(kd) == "distill=0.5, teacher=mnist-val5000.pt"


def test_pairs_with_the_same_seed_and_float_phase(tmp_path):
    report(tmp_path, "c0", 0.9826)
    report(tmp_path, "c0b", 0.9830)                           # the same recipe again, same float phase
    report(tmp_path, "other_float", 0.9900, floss=(0.3, 0.2))  # a default run from another float phase
    report(tmp_path, "s1", 0.9866, seed=1)
    report(tmp_path, "kd0", 0.9808, distill=0.5)
    report(tmp_path, "kdkeep0", 0.9800, distill=0.5, keep_channels=3)
    report(tmp_path, "kd1_newfloat", 0.9870, seed=1, floss=(0.2, 0.1), distill=0.5)
    report(tmp_path, "test_split", 0.99, split="test", distill=0.5)
    report(tmp_path, "fashion", 0.90, dataset="fashion-mnist", distill=0.5)
    runs = by_name(ledger.pair(ledger.load_runs(tmp_path, "mnist")))
    assert set(runs) == {"c0", "c0b", "other_float", "s1", "kd0", "kdkeep0", "kd1_newfloat"}
    kd = runs["kd0"]
    assert {c["name"] for c in kd["control"]} == {"c0", "c0b"}          # mean of both, not other_float
    assert abs(kd["delta"] - (98.08 - 98.28)) < 1e-9 and kd["adds"] == {("distill", 0.5)}
    kk = runs["kdkeep0"]                                       # the largest lever inside its own wins
    assert [c["name"] for c in kk["control"]] == ["kd0"] and kk["adds"] == {("keep_channels", 3)}
    assert runs["kd1_newfloat"]["delta"] is None               # no run of seed 1 continued its float phase
    assert runs["c0"]["delta"] is None and runs["c0"]["control"] == []


def test_two_different_controls_that_fit_equally_leave_the_run_unpaired(tmp_path):
    report(tmp_path, "kd", 0.98, distill=0.5)
    report(tmp_path, "tet", 0.98, tet=True)
    report(tmp_path, "both", 0.98, distill=0.5, tet=True)
    runs = by_name(ledger.pair(ledger.load_runs(tmp_path, "mnist")))
    assert runs["both"]["delta"] is None and runs["both"]["adds"] == {("distill", 0.5), ("tet", True)}


def test_a_run_aimed_below_the_sparsity_bound_is_a_reference_not_a_lever(tmp_path):
    report(tmp_path, "c0", 0.9826)
    report(tmp_path, "kd0", 0.9808, distill=0.5)
    report(tmp_path, "t80", 0.9880, target_sparsity=0.8)
    report(tmp_path, "t94", 0.9800, target_sparsity=0.94)       # at the bound: still a lever
    runs = ledger.pair(ledger.load_runs(tmp_path, "mnist"))
    assert abs(by_name(runs)["t80"]["delta"] - 0.54) < 1e-9       # paired all the same
    lines = ledger.summary(runs).splitlines()
    head = lines.index("references below the sparsity bound (not levers):")
    assert lines[head + 1].startswith("target_sparsity=0.8: paired +0.54")
    assert all(not ln.startswith("target_sparsity=0.8") for ln in lines[:head])
    assert any(ln.startswith("target_sparsity=0.94") for ln in lines[:head])
    assert ledger.is_reference(frozenset({("target_sparsity", 0.0)}))
    assert ledger.is_reference(frozenset({("target_sparsity", 0.92)}))                     # below MNIST's 94 %
    assert not ledger.is_reference(frozenset({("target_sparsity", 0.92)}), "fashion-mnist")  # above its 90 %


def test_a_run_aimed_above_the_default_target_is_a_curve_point_not_a_lever(tmp_path):
    report(tmp_path, "c0", 0.9826)
    report(tmp_path, "kd0", 0.9808, distill=0.5)
    report(tmp_path, "t97", 0.9700, target_sparsity=0.97)
    report(tmp_path, "t97k", 0.9750, target_sparsity=0.97, keep_channels=3)
    report(tmp_path, "keep0", 0.9830, keep_channels=3)
    runs = ledger.pair(ledger.load_runs(tmp_path, "mnist"))
    t97k = by_name(runs)["t97k"]
    assert [c["name"] for c in t97k["control"]] == ["t97"] and abs(t97k["delta"] - 0.50) < 1e-9
    lines = ledger.summary(runs).splitlines()
    head = lines.index("runs aimed above the default target (further curve points, not levers):")
    # the same setting at the default target and at 0.97 are told apart, and 0.97's cost is its own line
    assert lines[head + 1:] == ["keep_channels=3 at target_sparsity=0.97: paired +0.50 (mean +0.50, 1 pairs)",
                                "target_sparsity=0.97: paired -1.26 (mean -1.26, 1 pairs)"]
    assert "keep_channels=3: paired +0.04 (mean +0.04, 1 pairs)" in lines[:head]
    assert not ledger.is_beyond(frozenset({("target_sparsity", 0.94)}))
    assert not ledger.is_beyond(frozenset())


def test_cli_writes_the_table_and_the_plot(tmp_path, capsys):
    report(tmp_path / "a", "c0", 0.9826)
    report(tmp_path / "b", "lg0", 0.9760, lsq_grad="whole")
    md, png = tmp_path / "l.md", tmp_path / "l.png"
    assert ledger.main([str(tmp_path), "--md", str(md), "--png", str(png)]) == 0
    text = md.read_text()
    assert "lsq_grad=whole: paired -0.66 (mean -0.66, 1 pairs)" in text
    assert "| lsq_grad=whole | b/lg0 | 0 | **97.60 %** | a/c0 | -0.66 | lsq_grad=whole |" in text
    assert png.stat().st_size > 10_000


def test_cli_without_validation_reports_says_so(tmp_path, capsys):
    report(tmp_path, "t0", 0.9864, split="test")
    assert ledger.main([str(tmp_path)]) == 2
    assert "no mnist reports evaluated on a validation split" in capsys.readouterr().err
