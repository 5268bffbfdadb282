"""Issue 17's training options: --val-split, --tet, --distill, --stop-after-float, and the sweep driver."""
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sw.artifact import Model
from sw.training import export, run
from sw.training.models import build
from sw.training.config import split_validation

from .toy import NOTE, SMALL, toy_trainer

ROOT = Path(__file__).resolve().parents[3]


def test_validation_split_is_fixed_disjoint_and_ordered():
    x = np.arange(100)
    y = np.arange(100) * 10
    xt, yt, xv, yv = split_validation(x, y, 20)
    assert len(xv) == 20 and len(xt) == 80 and not set(xt) & set(xv) and set(xt) | set(xv) == set(x)
    assert (np.diff(xv) > 0).all() and (np.diff(xt) > 0).all() and (yv == xv * 10).all()
    assert xv.tolist() != list(range(80, 100))                 # a permutation, not the last frames
    assert (split_validation(x, y, 20)[2] == xv).all()          # the same frames every time (any --seed)
    for bad in (0, 100, 101):
        with pytest.raises(ValueError, match="val-split"):
            split_validation(x, y, bad)


def _trainer(**kw):
    t = toy_trainer(**kw)
    return t, t.data.x_train, t.data.y_train


def test_tet_loss_is_the_mean_of_the_per_step_cross_entropies():
    t, x, y = _trainer(tet=True)
    xin, yt = export.torch_input(x[:16], t.net), torch.from_numpy(y[:16])
    logits, acc = t.net(xin)
    steps = t.net.step_logits
    assert steps.shape == (4, 16, 4) and torch.allclose(steps.mean(0), logits, atol=1e-5)
    want = sum(F.cross_entropy(steps[k], yt) for k in range(4)) / 4
    got = t.loss(logits, xin, yt)
    assert torch.allclose(got, want) and not torch.allclose(got, F.cross_entropy(logits, yt))


def test_distillation_teacher_is_the_frozen_float_model(tmp_path):
    t, x, y = _trainer(distill=0.5)
    t.make_optimizer()
    t.run_epoch()                                   # float phase: plain CE, no teacher yet
    assert t.teacher is None
    before = {k: v.clone() for k, v in t.net.state_dict().items()}
    t.enter_joint()
    t.epoch = 0
    t.make_optimizer()
    assert t.teacher is not None and not t.teacher.integer and t.net.integer
    xin, yt = export.torch_input(x[:16], t.net), torch.from_numpy(y[:16])
    logits, _ = t.net(xin)
    ce = F.cross_entropy(logits, yt)
    assert not torch.allclose(t.loss(logits, xin, yt), ce)
    t.cfg.distill = 0.0
    assert torch.allclose(t.loss(logits, xin, yt), ce)
    t.cfg.distill = 0.5
    t.run_epoch()
    for k, v in t.teacher.state_dict().items():     # the teacher never moves
        assert torch.equal(v, before[k]), k
    assert all(not p.requires_grad for p in t.teacher.parameters())
    t.save(str(tmp_path / "c.pt"))                  # and it survives a joint-phase checkpoint
    u, _, _ = _trainer(distill=0.5)
    u.load(str(tmp_path / "c.pt"))
    for k, v in u.teacher.state_dict().items():
        assert torch.equal(v, before[k]), k


@pytest.mark.slow
def test_val_split_cli_never_reports_test(tmp_path):
    out = tmp_path / "v"
    assert run.main(["--out", str(out), "--val-split", "64"] + SMALL) == 0
    rep = json.loads((out / "report.json").read_text())
    assert rep["eval_split"] == "val" and rep["n_val"] == 48 and "n_test" not in rep     # --test-limit caps it
    assert rep["export_check"]["frames"] == 48 and rep["n_train"] == 96
    assert all("val_acc" in h and "test_acc" not in h for h in rep["history"])
    assert "validation" in rep["accuracy_definitions"]["evaluated_on"]


@pytest.mark.slow
def test_stop_after_float_then_fork_with_joint_levers(tmp_path):
    out = tmp_path / "f"
    assert run.main(["--out", str(out), "--stop-after-float"] + SMALL) == 0
    assert not (out / "report.json").exists()
    st = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert st["phase"] == "float" and st["epoch"] == 1 and st["teacher"] is None
    assert run.main(["--out", str(out), "--distill", "0.7", "--distill-temp", "3"] + SMALL) == 0
    rep = json.loads((out / "report.json").read_text())
    assert [h["phase"] for h in rep["history"]] == ["float", "joint"]
    assert rep["config"]["distill"] == 0.7 and rep["config"]["distill_temp"] == 3
    assert run.main(["--out", str(out), "--tet"] + SMALL) == 1      # --tet changes the float phase: refused


def test_neuron_if_exports_if_layers_bit_exact(tmp_path):
    """--neuron if trains IF neurons (H = V + I) and the artifact's leak flags say so; the export's own
    golden == torch check must pass, and an IF checkpoint may not resume as LIF (it changes the float phase)."""
    out = tmp_path / "if"
    assert run.main(["--out", str(out), "--neuron", "if"] + SMALL) == 0
    rep = json.loads((out / "report.json").read_text())
    assert rep["config"]["neuron"] == "if" and rep["export_check"]["mismatches"] == 0
    assert [l.shape.leak for l in Model.load(out / "model.ffs").layers] == [False] * 6
    assert run.main(["--out", str(out), "--neuron", "lif"] + SMALL) == 1
    assert all(s.leak for s in build("scnn5").shapes)               # LIF stays the default


def test_neuron_per_layer_exports_its_flags_bit_exact(tmp_path):
    """--neuron with one entry per firing layer: each layer gets its own leak flag, in training and in the
    artifact, and the export's golden == torch check passes."""
    out = tmp_path / "mix"
    assert run.main(["--out", str(out), "--neuron", "if,lif,if,lif,lif"] + SMALL) == 0
    rep = json.loads((out / "report.json").read_text())
    assert rep["config"]["neuron"] == "if,lif,if,lif,lif" and rep["export_check"]["mismatches"] == 0
    assert [l.shape.leak for l in Model.load(out / "model.ffs").layers][:5] == [False, True, False, True, True]
    assert [s.leak for s in build("scnn5", leak=[False] + [True] * 4).shapes][:2] == [False, True]


@pytest.mark.slow
def test_sweep_forks_packs_and_stops_at_the_deadline(tmp_path):
    plan = {"common": ["--device", "cpu"],
            "runs": [{"name": "f", "args": ["--stop-after-float"]},
                     {"name": "a", "from": "f", "args": ["--target-sparsity", "0.5"]},
                     {"name": "long", "args": ["--epochs-float", "100000"]},
                     {"name": "after", "from": "long", "args": []}]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    extra = "--quick --train-limit 64 --test-limit 32 --batch 16 --threads 1 --model 1x28x28-4c3p1-mp2-8c3p1-mp2-10fc"
    r = subprocess.run([sys.executable, "sw/training/sweep.py", str(tmp_path / "plan.json"), "--work",
                        str(tmp_path / "w"), "--out", str(tmp_path / "o"), "--deadline", "50", "--pack-every",
                        "5", "--extra", extra], cwd=ROOT, capture_output=True, text=True, timeout=600)
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    st = {x["name"]: x for x in s["runs"]}
    assert st["f"]["state"] == "done" and st["a"]["state"] == "done", r.stdout[-3000:]
    assert st["long"]["state"] == "killed" and st["after"]["state"] == "skipped" and r.returncode == 1
    assert st["a"]["report"]["accuracy"]["deployed"] >= 0 and st["a"]["epochs"][-1]["phase"] == "joint"
    assert "phase float" in (tmp_path / "w" / "a" / "train.log").read_text()         # resumed from f's
    assert "--target-sparsity 0.5" in (tmp_path / "w" / "a" / "command.txt").read_text()
    assert "--stop-after-float" not in (tmp_path / "w" / "a" / "command.txt").read_text()
    with tarfile.open(tmp_path / "o" / "results.tar.gz") as tf:
        names = tf.getnames()
    assert "a/report.json" in names and "a/model.ffs" in names and not any("checkpoint" in n for n in names)
    with tarfile.open(tmp_path / "o" / "checkpoints.tar.gz") as tf:
        assert "long/checkpoint.pt" in tf.getnames()


def test_curve_table_and_plot_use_test_reports_only(tmp_path):
    from sw.training import curve

    def rep(name, split, seed, sp, acc, count="deployed"):
        d = tmp_path / name
        d.mkdir()
        config = {"target_sparsity": sp} if count is None else {"target_sparsity": sp, "sparsity_count": count}
        r = {"dataset": "mnist", "seed": seed, "config": config, "eval_split": split,
             "accuracy": {"deployed": acc, "float": 0.99}, "weight_sparsity": sp + 0.001,
             "weight_sparsity_deployed_shapes": sp - 0.01, "nonzeros": 100, "artifact_bytes": 1000}
        (d / "report.json").write_text(json.dumps(r))
    rep("c90", "test", 0, 0.90, 0.985)
    rep("c80", "test", 0, 0.80, 0.99)
    rep("s1", "test", 1, 0.94, 0.987)
    rep("v", "val", 0, 0.94, 0.5)                      # a validation run never enters the curve
    rows = curve.load_reports(tmp_path)
    assert [r["name"] for r in rows] == ["c80", "c90", "s1"]
    t = curve.table(rows)
    assert "| c80 | 0 | 0.8 | deployed | 99.00 % | 80.10 % | 79.00 % |" in t and "| v |" not in t
    assert curve.main([str(tmp_path)]) == 0 and (tmp_path / "accuracy_vs_sparsity.png").stat().st_size > 1000
    one = (tmp_path / "accuracy_vs_sparsity.png").read_bytes()
    rep("n97", "test", 0, 0.97, 0.978, count="nominal")   # a second series: the target on the nominal shapes
    rep("old", "test", 0, 0.99, 0.93, count=None)         # reports before the option counted the nominal shapes
    t = curve.table(curve.load_reports(tmp_path))
    assert "| n97 | 0 | 0.97 | nominal |" in t and "| old | 0 | 0.99 | nominal |" in t
    assert curve.count_of({}) == "deployed"               # bench rows recorded before the field
    assert curve.main([str(tmp_path)]) == 0 and (tmp_path / "accuracy_vs_sparsity.png").read_bytes() != one
    for d in ("n97", "old"):
        (tmp_path / d / "report.json").unlink()
        (tmp_path / d).rmdir()
    other = tmp_path / "elsewhere" / "v2"                # a validation run from another folder
    other.mkdir(parents=True)
    (other / "report.json").write_text((tmp_path / "v" / "report.json").read_text().replace('"seed": 0', '"seed": 1'))
    val = curve.load_reports(tmp_path, "val", [other])
    assert [(r["name"], r["seed"]) for r in val] == [("v", 0), ("elsewhere/v2", 1)]
    assert "deployed val acc." in curve.table(val)
    png = tmp_path / "val.png"
    assert curve.main([str(tmp_path), "--split", "val", "--with", str(other), "--goal", "98.76", "--png", str(png)]) == 0
    assert png.stat().st_size > 1000


@pytest.mark.slow
def test_sweep_run_from_a_carried_checkpoint(tmp_path):
    from sw.training import sweep
    small = ["--quick", "--train-limit", "64", "--test-limit", "32", "--batch", "16", "--threads", "1",
             "--model", "1x28x28-4c3p1-mp2-8c3p1-mp2-10fc"]
    assert run.main(["--out", str(tmp_path / "f"), "--stop-after-float", "--no-progress"] + small) == 0
    ck = str(tmp_path / "f" / "checkpoint.pt")           # absolute: ROOT / ck is ck
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"runs": [{"name": "x", "checkpoint": str(tmp_path / "nope.pt")}]}))
    with pytest.raises(SystemExit, match="missing"):
        sweep.load_plan(bad)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"runs": [{"name": "b", "checkpoint": ck, "args": ["--target-sparsity", "0.5"]}]}))
    assert sweep.main([str(plan), "--work", str(tmp_path / "w"), "--out", str(tmp_path / "o"),
                       "--extra", " ".join(small)]) == 0
    log = (tmp_path / "w" / "b" / "train.log").read_text()
    assert "resumed from" in log and "phase float, epoch 1" in log
    assert json.loads((tmp_path / "w" / "b" / "report.json").read_text())["config"]["target_sparsity"] == 0.5


def _kill_channels(net):
    """Zero kernel and negative bias for some channels of layers 0 and 1: channel removal drops them."""
    with torch.no_grad():
        for l, dead in zip(net.layers[:2], ([1, 4], [0, 2, 5])):
            l.theta_w[dead] = -1.0
            l.theta_b[dead] = -1.0
            l.sign_b[dead] = 1.0


def test_deployed_sparsity_counts_the_shapes_channel_removal_leaves():
    torch.manual_seed(3)
    net = build(NOTE, timesteps=4, in_bits=8)
    net.set_integer(True)
    _kill_channels(net)
    per_layer, sizes = export.deployed_layer_sparsity(net)
    model = export.to_artifact(net)
    assert sizes == [l.weights.size for l in model.layers]
    assert per_layer == pytest.approx([1 - l.nnz / l.weights.size for l in model.layers])
    nominal = net.overall_sparsity()
    deployed = sum(p * n for p, n in zip(per_layer, sizes)) / sum(sizes)
    assert deployed == pytest.approx(1 - sum(l.nnz for l in model.layers) / sum(sizes))
    assert deployed < nominal - 0.05, (deployed, nominal)      # the removed kernels were all zeros


@pytest.mark.parametrize("count", ["nominal", "deployed"])
def test_controllers_track_the_sparsity_count(count):
    t, _, _ = _trainer(sparsity_count=count, epochs_float=0, target_sparsity=0.6)
    t.enter_joint()
    t.epoch = 0
    _kill_channels(t.net)
    t.make_optimizer()
    seen = []
    upd = t.groups[0].controller.update
    t.groups[0].controller.update = lambda step, s: (seen.append(s), upd(step, s))[1]
    t.run_epoch()
    per_layer, sizes = export.deployed_layer_sparsity(t.net)
    deployed = sum(p * n for p, n in zip(per_layer, sizes)) / sum(sizes)
    h = t.history[-1]
    assert h["sparsity_deployed_shapes"] == pytest.approx(deployed)
    assert abs(deployed - h["sparsity"]) > 0.02                # the two counts differ on this net
    assert seen[-1] == pytest.approx(deployed if count == "deployed" else h["sparsity"])


def test_sweep_reads_epoch_lines_with_and_without_the_deployed_count(tmp_path):
    from sw.training import sweep
    log = tmp_path / "train.log"
    log.write_text("[float epoch 1] loss 0.2731 train 91.27% val 96.60% sparsity 18.92% (212 s)\n"
                   "[joint epoch 1] loss 0.1 train 95.00% val 97.10% sparsity 60.00%, deployed shapes 55.50% "
                   "(230 s)\n"
                   "[tune epoch 1] loss 0.05 train 98.08% val 97.80% sparsity 95.46%, deployed shapes 94.16% (198 s)\n")
    rows = sweep.parse_log(log)
    assert [(r["phase"], r["acc"], r["sparsity"], r["seconds"]) for r in rows] == \
        [("float", 96.6, 18.92, 212), ("joint", 97.1, 60.0, 230), ("tune", 97.8, 95.46, 198)]


def test_joint_plot_reads_val_and_test_histories(tmp_path):
    from sw.training import curve

    def rep(name, split, accs, tune=()):
        d = tmp_path / name
        d.mkdir()
        hist = [{"phase": "float", "epoch": 1, f"{split}_acc": 0.97, "sparsity": 0.2}]
        hist += [{"phase": ph, "epoch": e + 1, f"{split}_acc": a, "sparsity": 0.95, "sparsity_deployed_shapes": 0.94}
                 for ph, accs_ in (("joint", accs), ("tune", tune)) for e, a in enumerate(accs_)]
        (d / "report.json").write_text(json.dumps({"eval_split": split, "history": hist}))
    rep("v14", "val", [0.97, 0.98], tune=[0.981])
    rep("t24", "test", [0.96, 0.97, 0.985])
    runs = curve.load_joint_histories(tmp_path)
    assert [(n, s, len(p)) for n, s, p in runs] == [("t24", "test", 3), ("v14", "val", 3)]
    assert runs[0][2][-1] == (3, 98.5, 94.0)
    assert runs[1][2][-1] == (3, 98.1, 94.0)                   # fine-tune epochs continue the joint count
    png = tmp_path / "j.png"
    # no complete test report (no accuracy block) is needed for the joint plot alone
    (tmp_path / "t24" / "report.json").write_text(json.dumps({"eval_split": "val", "history": []}))
    assert curve.main([str(tmp_path), "--joint-png", str(png)]) == 0 and png.stat().st_size > 1000
