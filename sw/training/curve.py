"""Accuracy against weight sparsity from a set of run.py reports (the issue-17 curve).

    python -m sw.training.curve artifacts/mnist-scnn5-sweep [--png PATH]

Reads DIR/*/report.json, keeps the reports evaluated on the test set, prints a Markdown table (one row
per report, sorted by sparsity) and plots deployed test accuracy against the nominal weight sparsity
(filled markers) and against the sparsity of the deployed shapes after channel removal (open
markers), with the FireFly-S paper's MNIST point (98.03 % at 93.82 %).

    python -m sw.training.curve artifacts/mnist-scnn5-ceiling --split val --with RUN ... --goal 98.76

plots the runs evaluated on the validation split instead (`--split val`; no paper point, whose figure is a
test accuracy), with more run folders from elsewhere (`--with`, each holding a report.json) and a
horizontal line at an accuracy to reach (`--goal`).

    python -m sw.training.curve DIR --joint-png DIR/joint_epochs.png

also draws, for every report under DIR (validation and test runs), the evaluated accuracy and the
sparsity of the deployed shapes after each joint epoch, to compare joint phases of different length.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PAPER = {"mnist": (93.82, 98.03)}      # FireFly-S (paper), SCNN5 on MNIST: weight sparsity %, accuracy %


def reports(folder: Path):
    """(run name, eval split, report dict) for every FOLDER/*/report.json, by name."""
    for p in sorted(folder.glob("*/report.json")):
        r = json.loads(p.read_text())
        yield p.parent.name, r.get("eval_split", "test"), r


def load_reports(folder: Path, split: str = "test", extra=()):
    """One row per report of FOLDER/*/ and of each extra run folder evaluated on `split`, by sparsity."""
    found = list(reports(folder))
    for d in map(Path, extra):
        r = json.loads((d / "report.json").read_text())
        found.append((f"{d.parent.name}/{d.name}", r.get("eval_split", "test"), r))
    rows = []
    for name, ev, r in found:
        if ev != split:
            continue
        rows.append({"name": name, "split": ev, "dataset": r["dataset"], "seed": r["seed"],
                     "target": r["config"]["target_sparsity"], "acc": 100 * r["accuracy"]["deployed"],
                     "float": 100 * r["accuracy"]["float"], "sp": 100 * r["weight_sparsity"],
                     "sp_dep": 100 * r["weight_sparsity_deployed_shapes"], "nnz": r["nonzeros"],
                     "bytes": r["artifact_bytes"], "n_test": r.get("n_test"),
                     "count": r["config"].get("sparsity_count", "nominal")})
    return sorted(rows, key=lambda x: (x["sp"], x["seed"]))


def split_of(rows) -> str:
    """The split the rows were scored on; rows saved before the field existed (bench results) were test runs."""
    return rows[0].get("split", "test") if rows else "test"


def count_of(row) -> str:
    """What the run's --target-sparsity counted; rows saved before the field existed (bench results) counted the
    deployed shapes, the default since 2026-12-05, and the reports before that the nominal ones (load_reports)."""
    return row.get("count", "deployed")


def table(rows) -> str:
    ev = split_of(rows)
    out = [f"| run | seed | target | counted on | deployed {ev} acc. | weight sparsity | deployed shapes | non-zeros | bytes |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['name']} | {r['seed']} | {r['target']:g} | {count_of(r)} | {r['acc']:.2f} % | {r['sp']:.2f} % | "
                   f"{r['sp_dep']:.2f} % | {r['nnz']} | {r['bytes']} |")
    return "\n".join(out)


def plot(rows, path: Path, title: str, goal: float | None = None):
    from .plots import plt          # Agg backend
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ev = split_of(rows)
    s0 = sorted((r for r in rows if r["seed"] == 0), key=lambda r: r["sp"])
    counts = sorted({count_of(r) for r in s0})
    for count, (mark, color) in zip(counts, (("o", "C0"), ("s", "C4"))):
        pts = [r for r in s0 if count_of(r) == count]
        what = f", target counted on the {count} shapes" if len(counts) > 1 else " (nominal shapes)"
        ax.plot([r["sp"] for r in pts], [r["acc"] for r in pts], mark + "-", color=color, label=f"this work, seed 0{what}")
        ax.plot([r["sp_dep"] for r in pts], [r["acc"] for r in pts], mark, mfc="none", color=color,
                label="same models, sparsity of the deployed shapes" if count == counts[0] else None)
    other = sorted((r for r in rows if r["seed"] != 0), key=lambda r: (r["seed"], r["sp"]))
    for i, seed in enumerate(sorted({r["seed"] for r in other})):
        pts = [r for r in other if r["seed"] == seed]
        ax.plot([r["sp"] for r in pts], [r["acc"] for r in pts], "x-" if len(pts) > 1 else "x", color=f"C{i + 1}",
                ms=8, label=f"seed {seed}" if len(pts) > 1 else "other seeds" if i == 0 else None)
    ds = rows[0]["dataset"] if rows else "mnist"
    if ds in PAPER and ev == "test":
        ax.plot(*PAPER[ds], "*", color="C3", ms=14, label="FireFly-S paper")
    if goal is not None:
        ax.axhline(goal, color="C3", lw=1, ls="--", label=f"goal: {goal:g} %")
    ax.set(xlabel="weight sparsity (%)", ylabel=f"deployed {'validation' if ev == 'val' else ev} accuracy (%)", title=title)
    accs = [r["acc"] for r in rows]
    floor = max(accs) - 5.0 if accs else 0.0
    low = [r for r in rows if r["acc"] < floor]     # far-off runs would squash the curve: list them instead
    if low:
        ax.set_ylim(floor, max(accs) + 0.5)
        ax.text(0.98, 0.55, "below the scale: " + ", ".join(
            f"{r['name']} {r['acc']:.2f} % at {r['sp']:.2f} % ({r['sp_dep']:.2f} % deployed)" for r in low),
            transform=ax.transAxes, ha="right", fontsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def load_joint_histories(folder: Path):
    """Per report under `folder`: (name, eval split, [(epoch, accuracy %, deployed-shape sparsity %)]) over the
    joint epochs and then the fine-tune epochs (--epochs-tune), which continue the joint epochs' count."""
    out = []
    for name, split, r in reports(folder):
        hist = r.get("history", [])
        nj = sum(h["phase"] == "joint" for h in hist)
        pts = [(h["epoch"] + (nj if h["phase"] == "tune" else 0), 100 * h[f"{split}_acc"],
                100 * (h.get("sparsity_deployed_shapes") or h["sparsity"]))
               for h in hist if h["phase"] in ("joint", "tune")]
        if pts:
            out.append((name, split, pts))
    return out


def joint_plot(runs, path: Path, title: str):
    from .plots import plt          # Agg backend
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, (name, split, pts) in enumerate(runs):
        ep, acc, sp = zip(*pts)
        style = "-" if split == "val" else "--"
        ax[0].plot(ep, acc, style, marker="o", ms=3, color=f"C{i % 10}", label=f"{name} ({split})")
        ax[1].plot(ep, sp, style, marker="o", ms=3, color=f"C{i % 10}", label=f"{name} ({split})")
    accs = [a for _, _, pts in runs for _, a, _ in pts]
    ax[0].set(xlabel="joint epoch (then fine-tune epochs)", ylabel="accuracy (%)", title=f"{title}: accuracy after each joint epoch",
              ylim=(max(min(accs), max(accs) - 5.0) - 0.2, max(accs) + 0.3))   # a collapsed epoch falls off
    ax[1].set(xlabel="joint epoch (then fine-tune epochs)", ylabel="weight sparsity (%)", title="sparsity of the deployed shapes")
    for a in ax:
        a.grid(alpha=0.3)
        a.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m sw.training.curve", description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--png", default=None, help="default: FOLDER/accuracy_vs_sparsity.png")
    ap.add_argument("--title", default="SCNN5 / MNIST, T = 4, 4-bit weights")
    ap.add_argument("--joint-png", default=None, help="also plot every run's accuracy per joint epoch here")
    ap.add_argument("--split", default="test", choices=["test", "val"], help="which runs: scored on the test set or on --val-split")
    ap.add_argument("--with", dest="extra", action="append", default=[], metavar="RUN",
                    help="also this run folder (holding report.json); repeatable")
    ap.add_argument("--goal", type=float, default=None, help="draw a horizontal line at this accuracy (%%)")
    a = ap.parse_args(argv)
    folder = Path(a.folder)
    if a.joint_png:
        runs = load_joint_histories(folder)
        if not runs:
            print(f"no reports with joint epochs under {folder}", file=sys.stderr)
            return 2
        joint_plot(runs, Path(a.joint_png), a.title)
        print(f"wrote {a.joint_png}")
    rows = load_reports(folder, a.split, a.extra)
    if not rows:
        print(f"no {a.split}-split reports under {folder}", file=sys.stderr)
        return 0 if a.joint_png else 2
    print(table(rows))
    png = Path(a.png) if a.png else folder / "accuracy_vs_sparsity.png"
    plot(rows, png, a.title, a.goal)
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
