"""sw/training/run.py answers bad input with one error line and a non-zero exit, before any data is loaded
or anything is written, and never writes into a folder it did not create (issue 13). Each case runs the
real command as a subprocess, in a scratch working directory (where the default run folder would go).

These fail before training, so they are not marked slow (a few seconds each: importing torch); the two
runs at the end train a tiny model on a few frames."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RUN = [sys.executable, str(ROOT / "sw/training/run.py"), "--no-progress"]
TINY = ["--model", "1x28x28-4c3p1-mp2-10fc", "--quick", "--train-limit", "64", "--test-limit", "32", "--batch", "16"]
HUGE = "1x28x28-" + "-".join(["4096c15p7"] * 3) + "-10fc"         # > 100 GiB to train: refused up front
BIG = "1x28x28-4096c15p7-10fc"                                      # fits the estimate, not a 4 GB address space

# (case, arguments, exit code, a fragment of the error line). "{tmp}" is the scratch folder.
CASES = [
    ("--bits 0", ["--bits", "0"], 2, "--bits 0: must be in 1..8"),
    ("--bits 9", ["--bits", "9"], 2, "--bits 9: must be in 1..8"),
    ("--timesteps 0", ["--timesteps", "0"], 2, "--timesteps 0: must be in 1..64"),
    ("--timesteps -3", ["--timesteps", "-3"], 2, "--timesteps -3: must be in 1..64"),
    ("--timesteps 65", ["--timesteps", "65"], 2, "--timesteps 65: must be in 1..64"),
    ("--batch 0", ["--batch", "0"], 2, "--batch 0: must be >= 1"),
    ("--batch-joint -2", ["--batch-joint", "-2"], 2, "--batch-joint -2: must be 0 (= --batch) or >= the number"),
    ("--lr nan", ["--lr", "nan"], 2, "--lr nan: must be a finite number > 0"),
    ("--lr-joint -1", ["--lr-joint", "-1"], 2, "--lr-joint -1.0: must be a finite number > 0"),
    ("--weight-decay inf", ["--weight-decay", "inf"], 2, "--weight-decay inf"),
    ("--threads -1", ["--threads", "-1"], 2, "--threads -1: must be >= 0"),
    ("--epochs-float -1", ["--epochs-float", "-1"], 2, "--epochs-float -1: must be >= 0"),
    ("--target-sparsity 1", ["--target-sparsity", "1"], 2, "--target-sparsity 1.0: must be in [0, 1)"),
    ("--target-sparsity -0.1", ["--target-sparsity", "-0.1"], 2, "must be in [0, 1)"),
    ("--target-sparsity nan", ["--target-sparsity", "nan"], 2, "must be in [0, 1)"),
    ("--ramp 2", ["--ramp", "2"], 2, "--ramp 2.0: must be in [0, 1]"),
    ("--alpha 0", ["--alpha", "0"], 2, "--alpha 0.0"),
    ("--neuron unknown", ["--neuron", "lif,izh,lif,lif,lif"], 2, "--neuron: neuron 'lif,izh,lif,lif,lif': 'izh' is not"),
    ("--neuron too few", ["--neuron", "if,lif"], 2, "--neuron: neuron 'if,lif': 2 entries for 5 firing layers"),
    ("--scale-lr -1", ["--scale-lr", "-1"], 2, "--scale-lr -1.0: must be a finite number >= 0"),
    ("--label-smoothing 1", ["--label-smoothing", "1"], 2, "--label-smoothing 1.0: must be in [0, 1)"),
    ("--controller-gain 1", ["--controller-gain", "1"], 2, "--controller-gain 1.0: must be in (1, 2]"),
    ("--exempt-layers 6", ["--exempt-layers", "6"], 2, "--exempt-layers '6': entry '6' is not a layer index in 0..5"),
    ("--exempt-layers with --layer-sparsity", ["--exempt-layers", "0", "--layer-sparsity", "0,*,*,*,*,*"], 2,
     "--exempt-layers goes with one uniform target"),
    ("--distill-temp nan", ["--distill-temp", "nan"], 2, "--distill-temp nan"),
    ("--ema 1", ["--ema", "0.999,1"], 2, "--ema '0.999,1': decay 1 is outside (0, 1)"),
    ("--ema twice", ["--ema", "0.9,0.9"], 2, "decay 0.9 is given twice"),
    ("--train-limit -5", ["--train-limit", "-5"], 2, "--train-limit -5"),
    ("--seed -1", ["--seed", "-1"], 2, "--seed -1"),
    ("--batch not a number", ["--batch", "x"], 2, "invalid int value"),
    ("3-channel model on MNIST", ["--model", "3x28x28-8c3p1-10fc"], 2, "takes 3x28x28 input, mnist frames are 1x28x28"),
    ("11 classes on MNIST", ["--model", "1x28x28-8c3p1-11fc"], 2, "has 11 outputs, mnist has 10 classes"),
    ("bad notation", ["--model", "1x28x28-8c3p9-10fc"], 2, "padding 9"),
    ("model too large for memory", ["--model", HUGE], 2, "training needs at least"),
    ("--out is a file", ["--out", "{tmp}/afile"], 2, "--out {tmp}/afile: exists and is not a folder"),
    ("--out unwritable", ["--out", "/proc/x/y"], 2, "--out /proc/x/y: cannot write in /proc"),
    ("--out holds another run's model", ["--out", "{tmp}/done"], 2, "already holds model.ffs, report.json"),
    ("--out a committed model", ["--out", "{tmp}/repo/m"], 2, "model.ffs committed to git"),
    ("--out the demo model", ["--out", str(ROOT / "artifacts/mnist-scnn5")], 2, "--force to overwrite"),
    ("empty checkpoint", ["--out", "{tmp}/empty"], 1, "{tmp}/empty/checkpoint.pt: damaged checkpoint"),
    ("truncated checkpoint", ["--out", "{tmp}/trunc"], 1, "{tmp}/trunc/checkpoint.pt: damaged checkpoint"),
    ("random checkpoint", ["--out", "{tmp}/random"], 1, "{tmp}/random/checkpoint.pt: damaged checkpoint"),
    ("foreign checkpoint", ["--out", "{tmp}/foreign"], 1, "not a checkpoint of sw/training/run.py"),
    ("--data-root missing", ["--data-root", "{tmp}/nowhere"], 2, "--data-root {tmp}/nowhere: not a folder"),
    ("dvs-gesture without the data", ["--dataset", "dvs-gesture", "--out", "{tmp}/dvs"], 2, "DVS128 Gesture not found"),
]


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    import torch
    d = tmp_path_factory.mktemp("train-cli")
    (d / "afile").write_text("x")
    (d / "done").mkdir()
    for n in ("model.ffs", "report.json"):
        (d / "done" / n).write_text("another run's")
    (d / "empty").mkdir()
    (d / "empty" / "checkpoint.pt").write_bytes(b"")
    (d / "random").mkdir()
    (d / "random" / "checkpoint.pt").write_bytes(os.urandom(4096))
    (d / "trunc").mkdir()
    torch.save({"config": {}, "net": {"w": torch.zeros(4096)}}, d / "full.pt")
    blob = (d / "full.pt").read_bytes()
    (d / "trunc" / "checkpoint.pt").write_bytes(blob[:len(blob) // 2])
    (d / "foreign").mkdir()
    torch.save({"weights": torch.zeros(3)}, d / "foreign" / "checkpoint.pt")
    m = d / "repo" / "m"                              # a committed model beside a (local) checkpoint
    m.mkdir(parents=True)
    (m / "model.ffs").write_bytes(b"committed")
    git = ["git", "-C", str(d / "repo"), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "m/model.ffs"], check=True)
    subprocess.run(git + ["commit", "-qm", "model"], check=True)
    (m / "checkpoint.pt").write_bytes((d / "full.pt").read_bytes())
    return d


def snapshot(d: Path):
    """Every path under d, and each file's size and mtime (a folder's mtime moves with the write probe)."""
    return {str(p): p.is_file() and (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(d.rglob("*"))
            if ".git" not in p.parts}


def run(argv, cwd, env_extra=None, **kw):
    env = dict(os.environ, FIREFLY_DATA=os.environ.get("FIREFLY_DATA", str(ROOT / "data")), OMP_NUM_THREADS="1",
               **(env_extra or {}))
    return subprocess.run(RUN + argv, cwd=cwd, capture_output=True, text=True, timeout=600, env=env, **kw)


def check_one_line(r, code, fragment):
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert r.returncode == code, (r.returncode, r.stdout[-1000:], r.stderr[-2000:])
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "error: " in lines[0], r.stderr[-3000:]
    assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("case,argv,code,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line(tmp, case, argv, code, fragment):
    argv = [a.replace("{tmp}", str(tmp)) for a in argv]
    before, demo = snapshot(tmp), snapshot(ROOT / "artifacts/mnist-scnn5")
    r = run(argv + (["--quick"] if "--quick" not in argv else []), cwd=tmp)
    check_one_line(r, code, fragment.replace("{tmp}", str(tmp)))
    assert snapshot(tmp) == before, "a refused invocation wrote something"
    assert snapshot(ROOT / "artifacts/mnist-scnn5") == demo


@pytest.mark.parametrize("argv,fragment", [
    ([], "--out is required with more than one process"),
    (["--out", "o", "--batch", "1"], "--batch 1: must be >= the number of processes (2)")])
def test_several_processes(tmp_path, argv, fragment):
    """Under torchrun (WORLD_SIZE set) each process would pick its own default run folder."""
    check_one_line(run(argv + ["--quick"], cwd=tmp_path, env_extra={"WORLD_SIZE": "2"}), 2, fragment)
    assert list(tmp_path.iterdir()) == []


def test_out_of_memory_is_one_line(tmp_path):
    """An allocation that fails although the up-front estimate passed (here: a 4 GB address space)."""
    r = run(["--model", BIG, "--quick", "--out", str(tmp_path / "o")], cwd=tmp_path,
            preexec_fn=lambda: __import__("resource").setrlimit(__import__("resource").RLIMIT_AS, (4 << 30, 4 << 30)))
    check_one_line(r, 1, "error: out of memory")
    assert not (tmp_path / "o").exists() and not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_default_out_is_a_fresh_run_folder_and_fresh_replaces_a_damaged_checkpoint(tmp_path):
    r = run(TINY, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("mnist-custom-") and (folder / "model.ffs").is_file()
    (folder / "checkpoint.pt").write_bytes(b"garbage")
    check_one_line(run(TINY + ["--out", str(folder)], cwd=tmp_path), 1, "damaged checkpoint")
    r = run(TINY + ["--out", str(folder), "--fresh"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((folder / "report.json").read_text())["export_check"]["mismatches"] == 0
    assert len(list((tmp_path / "runs").iterdir())) == 1


@pytest.mark.slow
def test_force_writes_into_a_foreign_folder(tmp_path):
    out = tmp_path / "x"
    out.mkdir()
    (out / "model.ffs").write_bytes(b"someone else's")
    check_one_line(run(TINY + ["--out", str(out)], cwd=tmp_path), 2, "--force")
    assert (out / "model.ffs").read_bytes() == b"someone else's"
    r = run(TINY + ["--out", str(out), "--force"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (out / "model.ffs").read_bytes()[:4] == b"FFSM"
