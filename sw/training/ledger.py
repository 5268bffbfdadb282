"""Every lever measured on the validation split, on one page: each run.py report's deployed validation
accuracy beside the default recipe's runs and beside its own paired control (issue 17's ledger).

    python -m sw.training.ledger artifacts [--dataset mnist] [--png PATH] [--md PATH]

Reads every report.json under the folder that was evaluated on a validation split (`--val-split`).
- A run's *lever* is where its training settings differ from today's defaults (`Config()`). Settings
  that do not change what is trained (seed, device, threads, data_root) do not count. A setting the
  report lacks was added after the run and trained as today's default, except the defaults that
  changed on 2026-12-05 (`LEGACY`): such a run trained with the old value.
- A run with no lever is a run of the default recipe.
- A run's *control* is a run of the same seed that continued the same float phase (the same float-phase
  training losses, epoch by epoch) and whose lever is a strict part of the run's. The largest such
  lever wins; when several runs share it (the same recipe run twice, e.g. on two machines), their mean
  is the control. Runs trained for the run's own target sparsity are preferred as controls, so that a
  setting is compared at the sparsity it was run at. When two different levers tie, or none fits, the run
  is unpaired. The paired difference is run - control, and what the run adds is its lever less the
  control's.
- A run whose `--target-sparsity` is below issue 17's bound for its data set (`BOUND`: 94 % for MNIST,
  90 % for Fashion-MNIST) is a *reference*, not a lever: it trades away the sparsity the issue asks for
  (e.g. the recipe's ceiling at 80 % or dense). The summary lists references apart, and the plot marks them.
- A run aimed *above* the default recipe's target is a point further along the accuracy-sparsity curve, not
  a lever either: it asks more sparsity than the goal. The summary lists such runs apart, by what they add
  at which target (e.g. which setting holds accuracy best at 97 %), and the plot marks them.
The table (Markdown) lists every run; the plot draws each lever's runs against the default recipe's
spread, with a line from each paired run to its control (a run more than 1.5 points below the default
recipe's worst sits at the left edge as a triangle, labelled with its accuracy).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from .config import Config

NOT_RECIPE = {"seed", "device", "threads", "data_root", "dataset", "val_split"}
LEGACY = {"sparsity_count": "nominal", "batch_joint": 0}   # what a report without the key trained with
DEFAULTS = asdict(Config())
BOUND = {"mnist": 0.94, "fashion-mnist": 0.90}   # issue 17's sparsity bounds: a run aimed below is a reference
FLOOR = 1.5                 # the plot shows this far below the default recipe's worst run; lower runs sit at the edge


def lever(cfg: dict) -> frozenset:
    """The (setting, value) pairs where this run's training differs from today's defaults."""
    full = {**DEFAULTS, **LEGACY, **cfg}
    return frozenset((k, full[k]) for k in full
                     if k not in NOT_RECIPE and k in DEFAULTS and full[k] != DEFAULTS[k])


def target(lev) -> float:
    """The target sparsity a lever trains for."""
    return dict(lev).get("target_sparsity", DEFAULTS["target_sparsity"])


def is_reference(lev, dataset: str = "mnist") -> bool:
    """Whether a lever aims below the data set's sparsity bound (a reference point, not a lever)."""
    return target(lev) < BOUND.get(dataset, 0.0)


def is_beyond(lev) -> bool:
    """Whether a lever aims above the default recipe's target sparsity (a further curve point, not a lever)."""
    return target(lev) > DEFAULTS["target_sparsity"]


def label(items) -> str:
    """'k=v, ...' in key order; a --teacher file by its name alone."""
    return ", ".join(f"{k}={Path(v).name if k == 'teacher' else v}" for k, v in sorted(items)) or "defaults"


def float_phase(report: dict) -> tuple:
    """The float phase's identity: its training loss after each epoch."""
    return tuple(round(h["train_loss"], 9) for h in report.get("history", []) if h.get("phase") == "float")


def load_runs(folder: Path, dataset: str):
    runs = []
    for p in sorted(folder.rglob("report.json")):
        r = json.loads(p.read_text())
        if r.get("eval_split") != "val" or r.get("dataset") != dataset:
            continue
        lev = lever(r["config"])
        runs.append({"name": str(p.parent.relative_to(folder)), "seed": r["seed"], "val": 100 * r["accuracy"]["deployed"],
                     "lever": lev, "reference": is_reference(lev, dataset), "beyond": is_beyond(lev), "float": float_phase(r),
                     "sparsity": 100 * r["weight_sparsity_deployed_shapes"]})
    return runs


def pair(runs):
    """Give each run with a lever its control (list of runs) and their mean accuracy, the lever it adds, and the
    paired difference."""
    for r in runs:
        r.update(control=[], control_val=None, adds=r["lever"], delta=None)
        if not r["lever"]:
            continue
        cands = [c for c in runs if c is not r and c["seed"] == r["seed"] and c["float"] == r["float"]
                 and c["lever"] < r["lever"]]
        same = [c for c in cands if target(c["lever"]) == target(r["lever"])]
        cands = same or cands                               # compare at the run's own target where one can
        if not cands:
            continue
        best = max(len(c["lever"]) for c in cands)
        top = [c for c in cands if len(c["lever"]) == best]
        if len({c["lever"] for c in top}) > 1:
            continue                                        # two different controls fit equally: ambiguous
        r["control"] = top
        r["adds"] = r["lever"] - top[0]["lever"]
        r["control_val"] = sum(c["val"] for c in top) / len(top)
        r["delta"] = r["val"] - r["control_val"]
    return runs


def table(runs) -> str:
    out = ["| lever (against today's defaults) | run | seed | **deployed, val** | control | paired | adds | deployed shapes |",
           "|---|---|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: (len(r["lever"]) > 0, label(r["lever"]), r["seed"], r["name"])):
        ctl = " + ".join(c["name"] for c in r["control"]) or "-"
        d = f"{r['delta']:+.2f}" if r["delta"] is not None else "-"
        adds = label(r["adds"]) if r["lever"] else "-"
        out.append(f"| {label(r['lever'])} | {r['name']} | {r['seed']} | **{r['val']:.2f} %** | {ctl} | {d} | {adds} | "
                   f"{r['sparsity']:.2f} % |")
    return "\n".join(out)


def summary(runs) -> str:
    base = [r["val"] for r in runs if not r["lever"]]
    lines = []
    if base:
        m = sum(base) / len(base)
        lines.append(f"default recipe: {len(base)} runs, mean {m:.2f} %, range {min(base):.2f}-{max(base):.2f} %")
    sections = ((None, lambda r: not r["reference"] and not r["beyond"]),
                ("references below the sparsity bound (not levers):", lambda r: r["reference"]),
                ("runs aimed above the default target (further curve points, not levers):", lambda r: r["beyond"]))
    for head, keep in sections:
        by = {}
        for r in runs:
            if r["delta"] is not None and keep(r):
                key = label(r["adds"])
                if r["beyond"] and "target_sparsity" not in dict(r["adds"]):
                    key += f" at target_sparsity={target(r['lever'])}"
                by.setdefault(key, []).append(r["delta"])
        if head and by:
            lines.append(head)
        for k, ds in sorted(by.items(), key=lambda kv: -sum(kv[1]) / len(kv[1])):
            lines.append(f"{k}: paired {', '.join(f'{d:+.2f}' for d in ds)} (mean {sum(ds) / len(ds):+.2f}, {len(ds)} pairs)")
    return "\n".join(lines)


def plot(runs, path: Path, title: str):
    from .plots import plt          # Agg backend
    groups = {}
    for r in runs:
        groups.setdefault(r["lever"], []).append(r)
    ref = {k: g[0]["reference"] for k, g in groups.items()}
    beyond = {k: g[0]["beyond"] for k, g in groups.items()}
    order = sorted(groups, key=lambda k: (len(k) > 0, beyond[k], not ref[k],
                                          -sum(r["val"] for r in groups[k]) / len(groups[k])))
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.28 * len(order)))
    base = [r["val"] for r in groups.get(frozenset(), [])]
    if base:
        ax.axvspan(min(base), max(base), color="0.85", zorder=0, label="default recipe: range of its runs")
        ax.axvline(sum(base) / len(base), color="0.5", lw=1, zorder=0, label="default recipe: mean")
    seeds = sorted({r["seed"] for r in runs})
    lo = (min(base) if base else min(r["val"] for r in runs)) - FLOOR   # a collapsed run is drawn at the edge
    for y, k in enumerate(order):
        for r in groups[k]:
            c = f"C{seeds.index(r['seed']) % 10}"
            v = max(r["val"], lo)
            if r["control"]:                        # a control below the edge: its tick at the edge
                cv = max(r["control_val"], lo)
                ax.plot([cv, v], [y, y], "-", color=c, lw=0.8, alpha=0.6)
                ax.plot(cv, y, "|", color=c, ms=7)
            ax.plot(v, y, "o" if v == r["val"] else "<", color=c, ms=5)
            if v != r["val"]:
                ax.annotate(f"{r['val']:.2f}", (v, y), xytext=(6, -3), textcoords="offset points", fontsize=6, color=c)
    ax.set_xlim(lo - 0.05, None)
    for s in seeds:
        ax.plot([], [], "o", color=f"C{seeds.index(s) % 10}", label=f"seed {s} (| = its paired control)")
    ax.set_yticks(range(len(order)), [label(k) + (" [reference]" if ref[k] else " [beyond the target]" if beyond[k] else "")
                                   for k in order], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("deployed accuracy on the validation split (%)")
    fig.suptitle(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    height = fig.get_size_inches()[1]
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=7)
    fig.tight_layout(rect=(0, 0.6 / height, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m sw.training.ledger", description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--png", default=None, help="write the plot here")
    ap.add_argument("--md", default=None, help="write the summary and the table here (Markdown)")
    ap.add_argument("--title", default="SCNN5 / MNIST, T = 4, 4-bit weights: each lever measured on the validation split")
    a = ap.parse_args(argv)
    runs = pair(load_runs(Path(a.folder), a.dataset))
    if not runs:
        print(f"no {a.dataset} reports evaluated on a validation split under {a.folder}", file=sys.stderr)
        return 2
    text = summary(runs) + "\n\n" + table(runs) + "\n"
    print(text, end="")
    if a.md:
        Path(a.md).write_text(text)
    if a.png:
        plot(runs, Path(a.png), a.title)
        print(f"wrote {a.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
