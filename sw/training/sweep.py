"""Run a plan of `sw/training/run.py` invocations side by side (e.g. on one GPU), with forks from a
shared float-phase checkpoint, a hard deadline and progressive packing of the results.

    python sw/training/sweep.py PLAN.json --work /tmp/sweep --out OUTDIR [--deadline 500] [--extra '...']

PLAN.json: {"common": [args for every run], "runs": [{"name": "a", "args": [...]},
            {"name": "b", "from": "a", "args": [...]}, ...]}
A run with "from" starts once that run has exited successfully: it gets a copy of the parent's
checkpoint.pt and the parent's arguments (less --stop-after-float) followed by its own, so the parent is
typically a `--stop-after-float` run and the children differ only in joint-phase settings. A run with
"checkpoint": PATH (relative to the repository) starts from a copy of that file instead (a float-phase
checkpoint of an earlier sweep; its args must repeat that run's float-phase arguments).
`--extra` is appended to every command line (argparse: the last value wins), for smoke tests.

Every --pack-every seconds and at the end, OUTDIR gets summary.json (per run: state, exit status, the
last epoch lines of its log, the report's figures once it exists) and results.tar.gz (the work folder
without checkpoints); at the end also checkpoints.tar.gz. At the deadline the runs still going are
terminated (their checkpoints, one per epoch, stay). Each run's log is WORK/<name>/train.log.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EPOCH_RE = re.compile(r"\[(float|joint|tune) epoch (\d+)\] loss (\S+) train (\S+)% (test|val) (\S+)% "
                      r"sparsity (\S+)%(?:, deployed shapes \S+%)? \((\d+) s\)")


def load_plan(path):
    plan = json.loads(Path(path).read_text())
    names = [r["name"] for r in plan["runs"]]
    if len(set(names)) != len(names):
        raise SystemExit("plan: duplicate run names")
    for r in plan["runs"]:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", r["name"]):
            raise SystemExit(f"plan: bad run name {r['name']!r}")
        if r.get("from") and r["from"] not in names:
            raise SystemExit(f"plan: run {r['name']} forks from unknown run {r['from']}")
        if r.get("checkpoint") and (r.get("from") or not (ROOT / r["checkpoint"]).is_file()):
            raise SystemExit(f"plan: run {r['name']}: checkpoint {r['checkpoint']} missing, or given with 'from'")
    return plan


def full_args(plan, run):
    """The run's own arguments, after its parent's (recursively), less --stop-after-float."""
    by = {r["name"]: r for r in plan["runs"]}
    chain = []
    r = run
    while r is not None:
        chain.append(r)
        r = by.get(r.get("from"))
    args = []
    for r in reversed(chain):
        args += [a for a in r.get("args", []) if not (a == "--stop-after-float" and r is not run)]
    return args


def parse_log(path: Path):
    if not path.is_file():
        return []
    return [{"phase": m[1], "epoch": int(m[2]), "train_acc": float(m[4]), "split": m[5], "acc": float(m[6]),
             "sparsity": float(m[7]), "seconds": int(m[8])}
            for m in EPOCH_RE.finditer(path.read_text(errors="replace"))]


def summarize(plan, state, work: Path, t0: float):
    rows = []
    for r in plan["runs"]:
        name = r["name"]
        st = state[name]
        d = work / name
        row = {"name": name, "from": r.get("from"), "state": st["state"], "rc": st.get("rc"),
               "started_s": st.get("start"), "ended_s": st.get("end"), "epochs": parse_log(d / "train.log")}
        rep = d / "report.json"
        if rep.is_file():
            try:
                j = json.loads(rep.read_text())
                row["report"] = {"eval_split": j.get("eval_split", "test"), "accuracy": j["accuracy"],
                                 "weight_sparsity": j["weight_sparsity"],
                                 "weight_sparsity_deployed_shapes": j["weight_sparsity_deployed_shapes"],
                                 "nonzeros": j["nonzeros"], "wall_seconds": j["wall_seconds"]}
            except (ValueError, KeyError):
                pass
        rows.append(row)
    return {"elapsed_s": round(time.time() - t0, 1), "runs": rows}


def atomic_tar(dest: Path, work: Path, want):
    tmp = dest.with_name(dest.name + ".tmp")
    with tarfile.open(tmp, "w:gz") as tf:
        for p in sorted(work.rglob("*")):
            if p.is_file() and want(p):
                tf.add(p, arcname=str(p.relative_to(work)))
    os.replace(tmp, dest)


def pack(plan, state, work: Path, out: Path, t0: float, final: bool = False):
    s = summarize(plan, state, work, t0)
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(s, indent=1))
    os.replace(tmp, out / "summary.json")
    atomic_tar(out / "results.tar.gz", work, lambda p: not p.name.startswith("checkpoint"))
    if final:
        atomic_tar(out / "checkpoints.tar.gz", work, lambda p: p.name == "checkpoint.pt")
    line = []
    for r in s["runs"]:
        e = r["epochs"][-1] if r["epochs"] else None
        tag = f"{r['name']}:{r['state'][:4]}"
        if "report" in r:
            a = r["report"]
            tag += f" deployed {100 * a['accuracy']['deployed']:.2f}@{100 * a['weight_sparsity']:.2f}"
        elif e:
            tag += f" {e['phase'][0]}{e['epoch']} {e['acc']:.2f}@{e['sparsity']:.1f} ({e['seconds']}s)"
        line.append(tag)
    print(f"[{s['elapsed_s']:.0f} s] " + " | ".join(line), flush=True)
    return s


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python sw/training/sweep.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("plan")
    ap.add_argument("--work", required=True, help="folder for the runs' outputs")
    ap.add_argument("--out", required=True, help="folder for summary.json and the tarballs")
    ap.add_argument("--deadline", type=float, default=0, help="seconds after which running runs are "
                    "terminated (0 = none)")
    ap.add_argument("--pack-every", type=float, default=30)
    ap.add_argument("--extra", default="", help="arguments appended to every run (shell-quoted string)")
    ap.add_argument("--only", default="", help="comma-separated run names (and their parents) to run")
    ap.add_argument("--python", default=sys.executable)
    a = ap.parse_args(argv)
    plan = load_plan(a.plan)
    if a.only:
        keep = set(a.only.split(","))
        by = {r["name"]: r for r in plan["runs"]}
        for n in list(keep):
            while by[n].get("from"):
                n = by[n]["from"]
                keep.add(n)
        plan["runs"] = [r for r in plan["runs"] if r["name"] in keep]
    work, out = Path(a.work), Path(a.out)
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    extra = shlex.split(a.extra)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONUNBUFFERED="1")
    state = {r["name"]: {"state": "pending"} for r in plan["runs"]}
    procs = {}
    t0 = time.time()
    stop = {"flag": False}
    old_handler = signal.signal(signal.SIGTERM, lambda *_: stop.update(flag=True))

    def start(r):
        d = work / r["name"]
        d.mkdir(parents=True, exist_ok=True)
        if r.get("from"):
            shutil.copy2(work / r["from"] / "checkpoint.pt", d / "checkpoint.pt")
        elif r.get("checkpoint"):
            shutil.copy2(ROOT / r["checkpoint"], d / "checkpoint.pt")
        cmd = ([a.python, str(ROOT / "sw/training/run.py")] + plan.get("common", []) + full_args(plan, r)
               + extra + ["--out", str(d), "--no-progress"])
        (d / "command.txt").write_text(shlex.join(cmd) + "\n")
        f = open(d / "train.log", "a")
        procs[r["name"]] = (subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT), f)
        state[r["name"]].update(state="running", start=round(time.time() - t0, 1))
        print(f"[{time.time() - t0:.0f} s] start {r['name']}: {shlex.join(cmd[2:])}", flush=True)

    last_pack = 0.0
    while True:
        for r in plan["runs"]:
            st = state[r["name"]]
            if st["state"] != "pending":
                continue
            parent = state.get(r.get("from")) if r.get("from") else None
            if parent is None:
                start(r)
            elif parent["state"] == "done":
                start(r)
            elif parent["state"] in ("failed", "killed", "skipped"):
                st["state"] = "skipped"
        for name, (p, f) in list(procs.items()):
            rc = p.poll()
            if rc is not None:
                f.close()
                del procs[name]
                state[name].update(state="done" if rc == 0 else "failed", rc=rc, end=round(time.time() - t0, 1))
                print(f"[{time.time() - t0:.0f} s] {name} exited {rc}", flush=True)
        over = a.deadline and time.time() - t0 > a.deadline
        if over or stop["flag"]:
            for name, (p, f) in procs.items():
                p.terminate()
            for name, (p, f) in procs.items():
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                f.close()
                state[name].update(state="killed", rc=p.returncode, end=round(time.time() - t0, 1))
            procs.clear()
            for st in state.values():
                if st["state"] == "pending":
                    st["state"] = "skipped"
            print(f"[{time.time() - t0:.0f} s] {'deadline' if over else 'SIGTERM'}: stopped the runs still going",
                  flush=True)
        if not procs and all(st["state"] != "pending" for st in state.values()):
            break
        if time.time() - last_pack >= a.pack_every:
            pack(plan, state, work, out, t0)
            last_pack = time.time()
        time.sleep(1)
    pack(plan, state, work, out, t0, final=True)
    signal.signal(signal.SIGTERM, old_handler)
    return 0 if all(st["state"] == "done" for st in state.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
