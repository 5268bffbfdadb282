"""One benchmark (issue 16, first version): SCNN5 on MNIST, measured in RTL (Verilator) in one run, next to
the figures recorded earlier and FireFly-S's published ones; writes results.json, RESULTS.md and plots.

    python bench/run.py [--quick] [--out bench/results/] [--pareto-frames N] [--sparsity-frames N]

Stages: golden-model host throughput; the Pareto sweep (balance() at LUT budgets from the smallest build
to the A7-100T's, each point run in RTL); the sparsity sweep (the trained model pruned by magnitude to
several weight sparsities, one A7-100T-sized build); per-layer counters of the A7-100T build; accuracy
against sparsity from the training reports; NeuroBench's metrics of the trained model (bench/neurobench.py,
checked exact against the golden model); the models stage (SCNN5 on MNIST and Fashion-MNIST, trained;
SCNN7 and SCNN9, untrained at the paper's sparsity) on each part's balanced build (A7-35T, A7-100T,
ULX3S-85F), in RTL. --quick: a few frames, the two smallest builds, two sparsities, one model row.
--stages runs a subset and updates the results.json already in --out (each stage's command, commit,
settings and time go to meta.stage_runs), so a long benchmark can be measured a stage at a time; --merge-from DIR
copies --stages from a run with another --out (DIR/results.json) into --out without running anything;
--model-parts limits the models stage to some parts and replaces only their rows.
Every RTL run is checked bit for bit against the golden model. The full run also synthesizes every Pareto
point with yosys (soc.accel.synth: LUT, FF, BRAM, logic-only critical path); --quick and
--no-pareto-synth skip that and fall back to a recorded yosys run of the same parallelism, if any.
"""
import argparse
import copy
import datetime
import importlib.util
import json
import os
import subprocess
import sys
import time

import numpy as np
from tqdm import tqdm

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import measure  # noqa: E402
import page  # noqa: E402
import recorded  # noqa: E402
from accel_common import DEFAULT_MODEL, mnist_frames  # noqa: E402

from sw import golden  # noqa: E402
from sw.artifact import Model  # noqa: E402
from soc import ACCEL_CLK_FREQ  # noqa: E402
from soc.accel.balance import Budget  # noqa: E402
from soc.accel.config import AccelConfig  # noqa: E402

FULL = {"pareto_frames": 200, "sparsity_frames": 48, "golden_frames": 2000, "budgets": 8,
        "sparsities": [0.0, 0.5, 0.8, 0.9, 0.95, 0.98], "neurobench_frames": 10000, "model_frames": 16,
        "models": [m[0] for m in measure.SUITE], "model_parts": list(measure.SUITE_PARTS), "pareto_synth": True}
QUICK = {"pareto_frames": 4, "sparsity_frames": 2, "golden_frames": 200, "budgets": 2,
         "sparsities": [0.0, 0.95], "neurobench_frames": 32, "model_frames": 4,
         "models": ["SCNN5 / MNIST"], "model_parts": ["a7-35"], "pareto_synth": False}      # the Pareto sweep's smallest build: cached
STAGES = page.STAGES


def measured(name, value, unit, command, **extra):
    d = {"name": name, "value": value, "unit": unit, "source": "measured", "command": command}
    d.update(extra)
    return d


class Run:
    def __init__(self, args, settings):
        self.args, self.s = args, settings
        self.cmd = "python bench/run.py " + " ".join(args.argv)
        self.model = Model.load(args.model)
        self.res = {"meta": {"command": self.cmd, "quick": args.quick, "model": args.model,
                             "started_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                             "git": git_rev(), "settings": settings, "accel_clock_hz": ACCEL_CLK_FREQ,
                             "host": f"{os.cpu_count()} CPUs, shared with other jobs"},
                    "figures": [], "pareto": [], "sparsity": [], "layers": None, "accuracy_sweep": [],
                    "neurobench": None, "models": [],
                    "paper": {"scnn5": recorded.PAPER_SCNN5, "cite": recorded.PAPER_CITE}}
        self.figs = self.res["figures"]

    # figures of results.json files written before figures carried their stage, by name prefix
    LEGACY_FIGURES = {"golden": ("golden_frames_per_second",), "pareto": ("pareto_",),
                      "sparsity": ("dense_", "trained_cycles"), "accuracy": (), "models": (),
                      "neurobench": ("neurobench_", "golden_matched", "golden_bias", "golden_spike", "artifact_")}

    # the results.json keys each stage fills, next to its figures, with their empty values
    STAGE_KEYS = {"pareto": {"pareto": [], "layers": None}, "sparsity": {"sparsity": []},
                  "models": {"models": []}, "neurobench": {"neurobench": None},
                  "accuracy": {"accuracy_sweep": []}, "golden": {}}

    @classmethod
    def stage_figures(cls, figs, st):
        legacy = cls.LEGACY_FIGURES[st]
        return [f for f in figs if f.get("stage") == st or (
            "stage" not in f and legacy and f["name"].startswith(legacy))]

    def reset_stage(self, st):
        """Forget what stage `st` measured before (a partial run measures it again)."""
        self.res.update(copy.deepcopy(self.STAGE_KEYS[st]))      # fresh lists: the stage appends to them
        drop = {id(f) for f in self.stage_figures(self.figs, st)}
        self.figs[:] = [f for f in self.figs if id(f) not in drop]

    def merge_stage(self, src, st):
        """Take stage `st` as measured by another run (`src`, its results.json) into this one: its keys, its
        figures and its latest meta.stage_runs entry, so a stage run with another --out joins this page."""
        runs = [r for r in src.get("meta", {}).get("stage_runs", []) if r["stage"] == st]
        if not runs:
            raise SystemExit(f"--merge-from: stage {st} has no recorded run (meta.stage_runs) in the source")
        old = self.stage_figures(self.figs, st)
        at = self.figs.index(old[0]) if old else len(self.figs)      # the page keeps its order
        self.reset_stage(st)
        self.res.update({k: src[k] for k in self.STAGE_KEYS[st] if k in src})     # else reset_stage's empties
        self.figs[at:at] = [dict(f, stage=st) for f in self.stage_figures(src["figures"], st)]
        self.res["meta"].setdefault("stage_runs", []).append(dict(runs[-1], merged_from=self.args.merge_from))

    def save(self):
        os.makedirs(self.args.out, exist_ok=True)
        with open(os.path.join(self.args.out, "results.json"), "w") as f:
            json.dump(self.res, f, indent=1, default=float)
        page.render(self.res, self.args.out)

    def golden_throughput(self):
        n = self.s["golden_frames"]
        images = mnist_frames(self.model, n)
        t0 = time.perf_counter()
        preds, _, _ = golden.run(self.model, images)
        dt = time.perf_counter() - t0
        self.figs.append(measured("golden_frames_per_second", n / dt, "frames/s (numpy golden model, host CPU)",
                                  self.cmd, frames=n))

    def neurobench(self):
        """NeuroBench's metrics next to ours (bench/neurobench.py, loaded under another name: "neurobench" is
        the package). A missing package is recorded as the reason, and the run goes on."""
        spec = importlib.util.spec_from_file_location("bench_neurobench", os.path.join(HERE, "neurobench.py"))
        nbm = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(nbm)
        n = self.s["neurobench_frames"]
        try:
            nbm.neurobench_api()
        except ImportError as e:
            self.res["neurobench"] = {"error": f"neurobench could not be imported: {e}", "frames": n}
            return
        r = nbm.measure(self.args.model, n)
        if not all(r["checks"].values()):
            raise RuntimeError(f"NeuroBench check failed: {r['checks']}")
        r.update(source="measured", command=self.cmd,
                 same_as=f"python bench/neurobench.py --frames {n} --model {self.args.model}")
        self.res["neurobench"] = r
        self.figs += recorded.neurobench_figures(r, "measured", self.cmd)
        self.figs.append(measured("neurobench_seconds", r["seconds"], "s (both NeuroBench runs and the golden "
                                  "model on the same frames)", self.cmd, frames=n))

    def pareto(self, bar):
        budgets, top = measure.pareto_budgets(self.model, n=self.s["budgets"] if not self.args.quick else 8)
        if self.args.quick:
            budgets = budgets[:self.s["budgets"]]      # the smallest builds: quick to verilate
        images = mnist_frames(self.model, self.s["pareto_frames"])
        cache = {}
        small = Budget.for_part("a7-35")       # which points are the parts' default accelerators
        part_of = {measure.par_text(measure.balanced(self.model, small.luts, small.brams)[0].parallelism): ["a7-35"]}
        for lut_budget in budgets:
            b, cfg = measure.balanced(self.model, lut_budget, top.brams)
            par = measure.par_text(cfg.parallelism)
            bar.set_postfix_str(f"pareto {par}")
            if par not in cache:
                cache[par] = measure.rtl_point(self.model, cfg, images, self.args.jobs)
                if self.s["pareto_synth"]:
                    bar.set_postfix_str(f"pareto {par}: yosys")
                    cache[par]["yosys"] = measure.synth_point(
                        cfg, os.path.join(measure.ROOT, "build", "bench-pareto-synth", par.replace(",", "_")))
            p = dict(cache[par], budget_luts=lut_budget, predicted_luts=b.luts, predicted_brams=b.brams,
                     predicted_cycles_per_frame=b.cycles, predicted_bound=b.bound)
            p["fps_at_accel_clock"] = ACCEL_CLK_FREQ / p["cycles_per_frame"]
            p["default_build_of"] = part_of.get(par, []) + (["a7-100"] if lut_budget == top.luts else [])
            syn = self.synth.get(par)
            if syn and "yosys" not in p:      # a yosys run recorded earlier, when this run made none
                p["yosys"] = dict(syn, source="recorded")
            self.res["pareto"].append(p)
            self.save()
            bar.update(1)
        pts = self.res["pareto"]
        self.res["layers"] = {"parallelism": pts[-1]["parallelism"], "frames": pts[-1]["frames"],
                              "predicted_per_layer": list(b.per_layer), "layers": pts[-1]["layers"]}
        lo, hi = pts[0], pts[-1]
        for tag, p in (("smallest", lo), ("largest", hi)):
            self.figs += [measured(f"pareto_{tag}_cycles_per_frame", p["cycles_per_frame"], "cycles/frame (RTL, steady state)",
                                   self.cmd, frames=p["frames"], parallelism=p["parallelism"]),
                          measured(f"pareto_{tag}_latency", p["latency_cycles"], "cycles (RTL, first frame)", self.cmd,
                                   frames=p["frames"], parallelism=p["parallelism"]),
                          measured(f"pareto_{tag}_utilisation", p["utilisation"], "bound / measured", self.cmd,
                                   frames=p["frames"], parallelism=p["parallelism"]),
                          *([measured(f"pareto_{tag}_yosys_luts", p["yosys"]["lut"], "logic LUTs (yosys synth_xilinx, "
                                      "the accelerator alone)", self.cmd, parallelism=p["parallelism"])]
                            if p.get("yosys", {}).get("source") == "measured" else []),
                          dict(measured(f"pareto_{tag}_predicted_luts", p["predicted_luts"],
                                        "LUTs predicted by balance()'s model (not yosys)", self.cmd,
                                        parallelism=p["parallelism"]), source="predicted"),
                          measured(f"pareto_{tag}_fps", p["fps_at_accel_clock"], f"frames/s at {ACCEL_CLK_FREQ / 1e6:g} "
                                   "MHz (the accel clock soc.ACCEL_CLK_FREQ; logic-only timing estimate)", self.cmd,
                                   frames=p["frames"], parallelism=p["parallelism"])]

    def sparsity(self, bar):
        """One build for all sparsities: A7-100T-balanced parallelism (quick: the smallest build), on the
        widths of the densest model so that every pruned model loads into it."""
        dense, kept = measure.dense_of(self.model)
        top = Budget.for_part("a7-100")
        luts = top.luts if not self.args.quick else 1
        b, _ = measure.balanced(self.model, luts, top.brams)
        cfg = AccelConfig.from_model(dense, b.parallelism)
        images = mnist_frames(self.model, self.s["sparsity_frames"])
        levels = [("trained", self.model)] + [(f"{s:g}", measure.magnitude_pruned(dense, kept, s))
                                              for s in self.s["sparsities"]]
        for label, m in levels:
            bar.set_postfix_str(f"sparsity {label}")
            p = measure.rtl_point(m, cfg, images, self.args.jobs)
            del p["layers"]
            p.update(label=label, weight_sparsity=measure.weight_sparsity(m),
                     hardware="dense-width build of " + ("the A7-100T" if not self.args.quick else "the smallest")
                     + " parallelism")
            self.res["sparsity"].append(p)
            self.save()
            bar.update(1)
        rows = self.res["sparsity"]
        dense_row = min(rows, key=lambda r: r["weight_sparsity"])
        trained = rows[0]
        self.figs += [measured("dense_cycles_per_frame", dense_row["cycles_per_frame"], "cycles/frame (RTL)", self.cmd,
                               frames=dense_row["frames"], parallelism=dense_row["parallelism"]),
                      measured("trained_cycles_per_frame_same_hw", trained["cycles_per_frame"], "cycles/frame (RTL)",
                               self.cmd, frames=trained["frames"], parallelism=trained["parallelism"]),
                      measured("dense_over_pruned_cycles", dense_row["cycles_per_frame"] / trained["cycles_per_frame"],
                               "x (same hardware)", self.cmd, frames=trained["frames"])]

    def models(self, bar):
        """Each SUITE model on each part's balanced build, in RTL (bit-exact against the golden model)."""
        for label, src, dataset, rand in measure.SUITE:
            if label not in self.s["models"]:
                continue
            model, images, calib, note = measure.suite_model(src, dataset, rand, self.s["model_frames"])
            for part in self.s["model_parts"]:
                bar.set_postfix_str(f"{label} {part}")
                p = measure.suite_point(model, images, calib, dataset, part, self.args.jobs)
                p.update(model=label, notation=model.notation, timesteps=model.timesteps, data=note,
                         weight_sparsity=measure.weight_sparsity(model), command=self.cmd)
                if p["family"] == "xc7":
                    p["fps_at_accel_clock"] = ACCEL_CLK_FREQ / p["cycles_per_frame"]
                same = next((i for i, r in enumerate(self.res["models"]) if (r["model"], r["part"]) == (label, part)), None)
                if same is not None:            # a --model-parts run replaces its rows where they stand
                    self.res["models"][same] = p
                else:
                    self.res["models"].append(p)
                self.save()
                bar.update(1)

    def accuracy_sweep(self):
        from pathlib import Path

        from sw.training.curve import load_reports
        folder = Path(recorded.ROOT) / "artifacts" / "mnist-scnn5-sweep"
        if folder.exists():
            self.res["accuracy_sweep"] = [dict(r, command=f"sw/training/run.py, {r['name']}/report.json")
                                          for r in load_reports(folder)]


def git_rev():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=HERE).stdout.strip()
    except OSError:
        return None


def merge(args, settings, stages, ap):
    src_path, dst_path = (os.path.join(os.path.abspath(d), "results.json") for d in (args.merge_from, args.out))
    for p in (src_path, dst_path):
        if not os.path.exists(p):
            ap.error(f"--merge-from: {p} does not exist")
    if src_path == dst_path:
        ap.error("--merge-from: the source is --out itself")
    if set(stages) == set(STAGES):
        ap.error("--merge-from: name the stages to copy with --stages")
    with open(src_path) as f:
        src = json.load(f)
    with open(dst_path) as f:
        dst = json.load(f)
    run = Run(args, settings)
    run.res, run.figs = dst, dst["figures"]
    for st in stages:
        run.merge_stage(src, st)
    run.save()
    print(f"bench/run.py: merged stages {','.join(stages)} from {src_path} into {dst_path}")


def subset(ap, flag, text, choices):
    """The non-empty comma-separated subset of `choices` named by `text`, or a one-line usage error."""
    items = [x for x in text.split(",") if x]
    if not items or any(x not in choices for x in items):
        ap.error(f"{flag} {text}: choose from {','.join(choices)}")
    return items


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few frames and small builds (CI)")
    ap.add_argument("--out", default=os.path.join("bench", "results"))
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--pareto-frames", type=int)
    ap.add_argument("--sparsity-frames", type=int)
    ap.add_argument("--budgets", type=int, help="Pareto points (full run; >= 2)")
    ap.add_argument("--neurobench-frames", type=int, help="MNIST test frames for NeuroBench's metrics")
    ap.add_argument("--model-frames", type=int, help="input frames per model and build in the models stage")
    ap.add_argument("--model-parts", help=f"comma-separated subset of {','.join(measure.SUITE_PARTS)} for the models "
                    "stage; the rows of the other parts stay as they are in --out's results.json")
    ap.add_argument("--no-pareto-synth", action="store_true",
                    help="skip yosys per Pareto point (the full run synthesizes each, minutes per point)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel Verilator processes per RTL run")
    ap.add_argument("--stages", default=",".join(STAGES),
                    help=f"comma-separated subset of {','.join(STAGES)}; a subset updates an existing "
                    "results.json in --out, recording each stage's command and time")
    ap.add_argument("--merge-from", metavar="DIR",
                    help="run nothing: copy --stages from DIR/results.json (a --stages run with another --out) "
                    "into the results.json in --out, and render the page again")
    args = ap.parse_args(argv)
    args.argv = argv
    args.out = os.path.abspath(args.out)    # something below changes the working folder (Verilog conversion)
    settings = dict(QUICK if args.quick else FULL)
    if args.no_pareto_synth:
        settings["pareto_synth"] = False
    stages = subset(ap, "--stages", args.stages, STAGES)
    for k in ("pareto_frames", "sparsity_frames", "budgets", "neurobench_frames", "model_frames"):
        if getattr(args, k) is not None:
            if getattr(args, k) < (2 if k == "budgets" else 1):
                ap.error(f"--{k.replace('_', '-')} {getattr(args, k)}: too small")
            settings[k] = getattr(args, k)
    if args.model_parts is not None:
        settings["model_parts"] = subset(ap, "--model-parts", args.model_parts, measure.SUITE_PARTS)
    if args.merge_from:
        return merge(args, settings, stages, ap)
    t0 = time.perf_counter()
    run = Run(args, settings)
    prev = os.path.join(args.out, "results.json")
    partial = set(stages) != set(STAGES)
    old_recorded = []
    if partial and os.path.exists(prev):       # keep the other stages' results, replace these
        with open(prev) as f:
            old = json.load(f)
        run.res.update({k: v for k, v in old.items() if k not in ("figures", "paper")})
        run.res["figures"] = [f for f in old["figures"] if f["source"] != "recorded"]     # re-read below
        old_recorded = [f for f in old["figures"] if f["source"] == "recorded"]
        run.figs = run.res["figures"]
        for st in stages:
            kept = run.res["models"] if st == "models" and args.model_parts else None
            run.reset_stage(st)
            if kept is not None:
                run.res["models"] = kept        # models() replaces the rows of --model-parts in place
    figs, run.synth = recorded.recorded()
    fresh = {f["name"] for f in figs}           # a recorded figure whose file is not on this machine stays as it was
    run.figs += figs + [f for f in old_recorded if f["name"] not in fresh]
    steps = {"golden": 1, "accuracy": 1, "neurobench": 1, "pareto": settings["budgets"],
             "sparsity": len(settings["sparsities"]) + 1,
             "models": len(settings["models"]) * len(settings["model_parts"])}
    with tqdm(total=sum(steps[x] for x in stages), desc="bench", unit="step") as bar:
        for st in stages:
            t1, n0, rev = time.perf_counter(), len(run.figs), git_rev()     # the commit the stage starts on
            if st in ("golden", "accuracy", "neurobench"):
                {"golden": run.golden_throughput, "accuracy": run.accuracy_sweep, "neurobench": run.neurobench}[st]()
                bar.update(1)
            else:
                getattr(run, st)(bar)
            for f in run.figs[n0:]:
                f.setdefault("stage", st)
            if partial:
                run.res["meta"].setdefault("stage_runs", []).append(
                    {"stage": st, "command": run.cmd, "git": rev, "settings": settings,
                     "seconds": round(time.perf_counter() - t1, 1),
                     "utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")})
            run.save()
    wall = time.perf_counter() - t0
    if not partial:
        run.res["meta"]["wall_seconds"] = wall
        run.figs.append(measured("bench_wall_seconds", wall, "s (this run)", run.cmd))
    run.save()
    print(f"bench/run.py: stages {','.join(stages)}: {len(run.figs)} figures, {len(run.res['pareto'])} Pareto points, "
          f"{len(run.res['sparsity'])} sparsity rows, {len(run.res['models'])} model rows -> {args.out}; "
          f"wall time {wall:.0f} s")


if __name__ == "__main__":
    main()
