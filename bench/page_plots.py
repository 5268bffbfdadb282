"""The PNG plots of bench/page.py (Pareto curve, cycles against weight sparsity, per-layer balance, accuracy
against sparsity), drawn from bench/run.py's results dict."""
import os


def plots(res, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    paper = res["paper"]["scnn5"]
    pts = res["pareto"]
    if pts:
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        ax.plot([p["predicted_luts"] for p in pts], [p["cycles_per_frame"] for p in pts], "o-",
                label=f"this work: predicted LUTs (balance model), RTL cycles ({pts[0]['frames']} frames)")
        ys = [p for p in pts if p.get("yosys")]
        if ys:
            ax.plot([p["yosys"]["lut"] for p in ys], [p["cycles_per_frame"] for p in ys], "s", mfc="none", ms=9,
                    label="same builds: yosys logic LUTs ("
                    + ("measured" if all(p["yosys"].get("source") == "measured" for p in ys) else "measured or recorded")
                    + ")")
        ax.plot(paper["lut"], paper["cycles_per_frame"], "*", color="C3", ms=14, label="FireFly-S SCNN5 (Vivado, KV260)")
        ax.set(xlabel="LUTs", ylabel="cycles/frame (steady state)", yscale="log", title="SCNN5 / MNIST: area vs speed")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "pareto.png"), dpi=110)
        plt.close(fig)
    rows = sorted(res["sparsity"], key=lambda r: r["weight_sparsity"])
    if rows:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        x = [100 * r["weight_sparsity"] for r in rows]
        ax.plot(x, [r["cycles_per_frame"] for r in rows], "o-", label="cycles/frame (RTL)")
        ax.plot(x, [r["matched_pairs_per_frame"] for r in rows], "s--", label="matched pairs/frame (golden)")
        ax.set(xlabel="weight sparsity (%)", yscale="log", title=f"one build: {rows[0]['parallelism']}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "sparsity.png"), dpi=110)
        plt.close(fig)
    ly = res["layers"]
    if ly:
        import numpy as np
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        idx = np.arange(len(ly["layers"]))
        w = 0.2
        ax.bar(idx - 1.5 * w, [l["work_per_detector"] for l in ly["layers"]], w, label="work / PCo (bound per layer)")
        if None not in ly["predicted_per_layer"]:
            ax.bar(idx - 0.5 * w, ly["predicted_per_layer"], w, label="balance() predicted cycles")
        ax.bar(idx + 0.5 * w, [l["busy_per_frame"] for l in ly["layers"]], w, label="RTL busy cycles")
        ax.bar(idx + 1.5 * w, [l["stall_per_frame"] for l in ly["layers"]], w, label="RTL stalled cycles")
        ax.set(xlabel="layer", ylabel="per frame", title=f"per layer, {ly['parallelism']}")
        ax.set_xticks(idx)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "layers.png"), dpi=110)
        plt.close(fig)
    if res["accuracy_sweep"]:
        from pathlib import Path

        from sw.training.curve import plot
        plot(res["accuracy_sweep"], Path(out) / "accuracy.png", "SCNN5 / MNIST: accuracy vs weight sparsity")
