"""RESULTS.md and the PNG plots of bench/run.py, rendered from its results dict (results.json).

    python bench/page.py bench/results/results.json     # render again (same folder), nothing re-measured
    python bench/page.py bench/results/results.json --neurobench FILE
        # first put the NeuroBench block FILE (written by bench/neurobench.py --json) into results.json,
        # marked recorded, replacing any earlier one; then render
"""
import json
import os
import sys

NYM = "not yet measured"


# the benchmark's stages, in the order bench/run.py runs them
STAGES = ("golden", "accuracy", "neurobench", "pareto", "sparsity", "models")


def _fmt(v, nd=0):
    if v is None:
        return NYM
    if isinstance(v, str):
        return v
    if abs(v) >= 1e7:
        return f"{v:.3g}"
    return f"{v:,.{nd}f}"


def _fig(res, name):
    for f in res["figures"]:
        if f["name"] == name:
            return f["value"]
    return None


def headline(res):
    """Rows (label, dict) of the headline table: FireFly-S's SCNN5 and our measured SCNN5 builds."""
    paper = res["paper"]["scnn5"]
    clock = res["meta"]["accel_clock_hz"]
    acc, sp = _fig(res, "scnn5_mnist_accuracy"), _fig(res, "scnn5_mnist_weight_sparsity")
    rows = [("FireFly-S SCNN5 (paper; " + paper["device"] + ")",
             {"lut": paper["lut"], "ff": paper["ff"], "bram": paper["bram36"], "dsp": paper["dsp"],
              "clock": f"{paper['clock_mhz']} MHz (implemented)", "lat": "not published", "fps": paper["fps"], "cpf": paper["cycles_per_frame"],
              "acc": f"{paper['accuracy']:.2f}%", "sp": f"{paper['weight_sparsity']:.2f}%",
              "prec": paper["precision"], "frames": "-"})]
    pts = res["pareto"]
    if pts:
        names = {"a7-35": "A7-35T", "a7-100": "A7-100T"}
        for tag, p in (("largest", pts[-1]), ("smallest", pts[0])):
            if tag == "smallest" and len(pts) == 1:
                break
            parts = " and ".join(names[x] for x in p.get("default_build_of", []))
            tag = f"{tag} build of the sweep" + (f" = the {parts} build" if parts else "")
            y = p.get("yosys")
            lut = y["lut"] if y else f"~{p['predicted_luts']:,} predicted"
            rows.append((f"this work SCNN5, {tag}, `{p['parallelism']}`",
                         {"lut": lut, "ff": y["ff"] if y else None, "bram": y["bram36"] if y else None,
                          "dsp": y["dsp"] if y else None, "clock": f"{clock / 1e6:g} MHz (logic-only estimate)",
                          "fps": p["fps_at_accel_clock"], "cpf": p["cycles_per_frame"], "lat": p["latency_cycles"],
                          "acc": f"{acc:.2f}% (10k test, golden; RTL equal)" if acc else None,
                          "sp": f"{sp:.2f}% (nominal)" if sp else None, "prec": "4-bit weights", "frames": p["frames"],
                          "lut_mem": y["lut_mem"] if y else None,
                          "lut_source": y.get("source", "recorded") if y else None}))
    return rows


# FireFly-S, Table IV/VI (../shared/design/firefly-s.md): LUT, FF, BRAM36, FPS at 333 MHz on the KV260
PAPER_OTHERS = {"SCNN7": (55_234, 98_731, 11, 3_683), "SCNN9": (84_641, 139_780, 76.5, 2_327)}


def models_md(res):
    rows = res.get("models") or []
    head = ["## Every model on every build (RTL)", ""]
    if not rows:
        return head + [NYM, ""]
    clock = res["meta"]["accel_clock_hz"]
    L = head + [f"Each model on each part's balanced build (balance()'s default budget for the part), run in RTL "
                f"(Verilator) and checked bit for bit against the golden model. LUTs and BRAM are balance()'s "
                f"prediction (LUT4 sites and DP16KD on ECP5). FPS at {clock / 1e6:g} MHz (the xc7 logic-only "
                "estimate); ECP5 builds give cycles only, their routed clock is in docs/soc.md. "
                "`in budget`: balance()'s prediction is within the part's accelerator budget (else this is the smallest "
                "build balance() makes; its model is pessimistic: the A7-35T SCNN5 build it predicts at 11.1k LUTs "
                "synthesizes to 9.0k + 1.5k LUTRAM and fits the SoC at 82%, docs/soc.md).", "",
                "| model | part | parallelism | in budget | LUT (pred.) | BRAM (pred.) | cycles/frame | latency | "
                "utilisation | FPS | matched pairs/frame | weight sparsity | frames | data |", "|" + "---|" * 14]
    for r in rows:
        fps = _fmt(r.get("fps_at_accel_clock")) if r.get("fps_at_accel_clock") else "-"
        L.append(f"| {r['model']} | {r['part']} | `{r['parallelism']}` | {'yes' if r['fits'] else '**no**'} | "
                 f"{_fmt(r['predicted_luts'])} | {_fmt(r['predicted_brams'], 1)} | {_fmt(r['cycles_per_frame'])} | "
                 f"{_fmt(r['latency_cycles'])} | {r['utilisation']:.2f} | {fps} | "
                 f"{_fmt(r['matched_pairs_per_frame'])} | {r['weight_sparsity']:.2%} | {r['frames']} | {r['data']} |")
    L += ["", "FireFly-S (Table IV/VI, KV260, 333 MHz, trained models): "
          + "; ".join(f"{k}: {v[0]:,} LUT, {v[1]:,} FF, {v[2]:g} BRAM36, {v[3]:,} FPS = "
                      f"{333e6 / v[3]:,.0f} cycles/frame" for k, v in PAPER_OTHERS.items())
          + ". Our SCNN7/SCNN9 rows use untrained random weights, so their spike activity, and with it the "
          "cycles, is not that of a trained network.", ""]
    return L


def area_time(d):
    lut = d.get("lut")
    if not isinstance(lut, (int, float)) or not d.get("cpf"):
        return None, None
    fps = d["fps"]
    return lut * d["cpf"], lut / fps


def provenance(meta) -> str:
    """Which command measured the figures on the page: the run itself, or, per stage, the last
    `--stages` run that measured it again (earlier re-runs of a stage are superseded and not named)."""
    latest = {}
    for r in meta.get("stage_runs", []):
        latest[r["stage"]] = r
    first = (f"`{meta['command']}` at commit {meta['git']} ({meta['started_utc']}), model `{meta['model']}`, "
             f"on {meta['host']}")
    runs = [latest[st] for st in STAGES if st in latest]
    stages = "".join(f" `{r['stage']}`: `{r['command']}` at commit {r['git']} ({r['utc']}, {r['seconds']:.0f} s)."
                     for r in runs)
    if len(runs) == len(STAGES):
        return (f"Every stage was measured again after the first run ({first}), so none of its figures is left. "
                f"The stages were measured as follows ({sum(r['seconds'] for r in runs):.0f} s in all):" + stages
                + (" A stage run with its own `--out` was measured in parallel with the others and copied into "
                   "this results.json." if any("--out" in r["command"] for r in runs) else ""))
    done = (f"wall time {meta['wall_seconds']:.0f} s." if meta.get("wall_seconds")
            else "run not finished: partial results.")
    return f"Made by {first}; {done}" + (" Measured again since, by stage:" + stages if stages else "")


def plots(res, out):
    """Draw the PNGs into `out` (bench/page_plots.py, loaded by file: bench/ is scripts, not a package)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "bench_page_plots", os.path.join(os.path.dirname(os.path.abspath(__file__)), "page_plots.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.plots(res, out)


def render(res, out):
    if not res["layers"] and res["pareto"]:      # a run stopped before its end: the largest point measured
        p = res["pareto"][-1]
        res = dict(res, layers={"parallelism": p["parallelism"], "frames": p["frames"], "layers": p["layers"],
                                "predicted_per_layer": [None] * len(p["layers"])})
    plots(res, out)
    meta = res["meta"]
    L = ["# Benchmark results (bench/run.py)", "", provenance(meta),
         f"Frames: {meta['settings']['pareto_frames']} MNIST test frames per Pareto point, "
         f"{meta['settings']['sparsity_frames']} per sparsity level, {meta['settings']['golden_frames']} for the "
         "golden-model throughput. Every RTL run is checked bit for bit (every readout accumulator) against the "
         "golden model. **measured** = this run; **recorded** = read from the file an earlier command wrote; **predicted** = balance()'s model, computed in this run.", "",
         "## Headline: SCNN5 on MNIST", "",
         "| design | LUT | FF | BRAM36 | DSP | clock | FPS | cycles/frame | latency (cycles) | accuracy | weight sparsity "
         "| precision | LUT x cycles | LUT x s | RTL frames |", "|" + "---|" * 15]
    for label, d in headline(res):
        if not d:
            L.append(f"| {label} | {NYM} |" + " |" * 14)
            continue
        at, ats = area_time(d)
        lut = _fmt(d.get("lut")) + (f" + {d['lut_mem']:,} as LUTRAM (yosys, {d.get('lut_source', 'recorded')})"
                                    if d.get("lut_mem") else "")
        L.append(f"| {label} | {lut} | " + " | ".join(_fmt(d.get(k)) for k in ("ff", "bram", "dsp", "clock", "fps", "cpf", "lat",
                                                                                  "acc", "sp", "prec"))
                 + f" | {_fmt(at)} | {_fmt(ats, 2)} | {_fmt(d.get('frames'))} |")
    L += ["", f"Paper figures: {res['paper']['cite']}; its cycles/frame is 333 MHz / 10,047 FPS. Our LUT/FF/BRAM/DSP are "
          "yosys `synth_xilinx` (recorded, the accelerator alone, logic LUTs; LUTRAM counted apart) where a recorded "
          "synthesis has the same parallelism, else balance()'s prediction (incl. LUTRAM). Cycles/frame and latency "
          "are measured in this run (RTL); FPS = accel clock / cycles/frame. LUT x cycles and LUT x s (per frame) use logic LUTs, LUTRAM excluded (as "
          "bench/accel_area_time.py), and are given only where yosys LUTs exist. Accuracy is the trained model's on the "
          "10k MNIST test set (artifacts/mnist-scnn5/report.json); the RTL equals the golden model on every frame "
          "it ran. No power was measured: no FPS/W.", "",
          "**Caveats.** (1) Vivado (paper) vs yosys (ours): LUT and FF counts of the two tools are not directly "
          "comparable (different mapping and packing); ours are yosys' of the accelerator alone, before place "
          "and route. (2) Kria KV260 "
          "(UltraScale+, paper) vs Artix-7 (ours; ECP5 build not in this run): different LUT fabrics and speed "
          "grades. (3) Routed (paper, 333 MHz) vs logic-only timing (ours): our 150 MHz is an estimate from "
          "yosys cell delays without wires (docs/accelerator.md, Timing); no Vivado run has confirmed it. "
          "(4) The paper does not say whether its first layer runs on chip; ours does.", ""]
    L += (models_md(res) + pareto_md(res) + sparsity_md(res) + layers_md(res) + accuracy_md(res) + neurobench_md(res)
          + figures_md(res) + missing_md(res))
    with open(os.path.join(out, "RESULTS.md"), "w") as f:
        f.write("\n".join(L) + "\n")


def pareto_md(res):
    pts = res["pareto"]
    L = ["## Pareto: LUTs against cycles/frame (SCNN5, MNIST)", "", "![pareto](pareto.png)", "",
         "balance() at LUT budgets geometric from its smallest build to the A7-100T accelerator budget "
         "(part x 80% - SoC). Column yosys: `synth_xilinx -abc9` of the accelerator alone (logic LUTs, LUTRAM "
         "apart), **measured** in this run, or **recorded** from an earlier yosys run of the same parallelism, "
         "or not yet measured; predicted LUTs are balance()'s linear model (`soc/accel/balance.py`).", "",
         "| budget | parallelism | predicted LUTs | yosys logic LUTs (+ LUTRAM) | yosys FF | logic-only critical path "
         "| cycles/frame (RTL) | predicted | bound | utilisation | latency | FPS @ clock | frames |", "|" + "---|" * 13]
    for p in pts:
        y = p.get("yosys")
        ylut = f"{_fmt(y['lut'])} (+ {_fmt(y.get('lut_mem'))}), {y.get('source', 'recorded')}" if y else NYM
        crit = f"{y['critical_ns']:.2f} ns" if y and y.get("critical_ns") else NYM
        L.append(f"| {p['budget_luts']:,} | `{p['parallelism']}` | {p['predicted_luts']:,} | "
                 f"{ylut} | {_fmt(y['ff']) if y else NYM} | {crit} | {_fmt(p['cycles_per_frame'])} | "
                 f"{_fmt(p['predicted_cycles_per_frame'])} | {_fmt(p['bound_cycles_per_frame'])} | "
                 f"{p['utilisation']:.2f} | {_fmt(p['latency_cycles'])} | {_fmt(p['fps_at_accel_clock'])} | {p['frames']} |")
    return L + ["", "utilisation = bound / measured, bound = max over layers of (golden matched pairs + bias "
                "operations) / PCo on the same frames.", ""]


def sparsity_md(res):
    rows = res["sparsity"]
    if not rows:
        return ["## Cycles against weight sparsity", "", NYM, ""]
    L = ["## Cycles against weight sparsity", "", "![sparsity](sparsity.png)", "",
         f"One build ({rows[0]['hardware']}, `{rows[0]['parallelism']}`). Models: the trained SCNN5; and for each "
         "level, the trained model with its pruned weights refilled with random non-zero 4-bit values (as "
         "bench/accel_sparsity.py), then per layer the lowest-ranked weights zeroed (refilled ones first, then "
         "trained ones by magnitude). Biases and thresholds unchanged, no retraining: these models are for "
         "cycles, not accuracy.", "",
         "| model | weight sparsity (deployed shapes) | cycles/frame (RTL) | matched pairs/frame | bound | utilisation | frames |",
         "|---|---|---|---|---|---|---|"]
    for r in rows:
        L.append(f"| {r['label']} | {100 * r['weight_sparsity']:.2f}% | {_fmt(r['cycles_per_frame'])} | "
                 f"{_fmt(r['matched_pairs_per_frame'])} | {_fmt(r['bound_cycles_per_frame'])} | "
                 f"{r['utilisation']:.2f} | {r['frames']} |")
    return L + [""]


def layers_md(res):
    ly = res["layers"]
    if not ly:
        return []
    L = ["## Per layer (pipeline balance)", "", "![layers](layers.png)", "",
         f"Build `{ly['parallelism']}`, {ly['frames']} frames. Counters of the RTL run per frame; fractions of "
         "the run's cycles. busy = any of the layer's scanner, token FIFOs, detectors or neurons active; stall = its output "
         "valid but not accepted (back-pressure from the next layer); the two may overlap; idle = 1 - busy.", "",
         "| layer | PCo x PCi | work/frame | work/PCo | predicted cycles | busy/frame | stall/frame | busy | stall "
         "| idle | output spike density |", "|" + "---|" * 11]
    for l, pred in zip(ly["layers"], ly["predicted_per_layer"]):
        L.append(f"| {l['layer']} | {l['pco']}x{l['pci']} | {_fmt(l['work_per_frame'])} | {_fmt(l['work_per_detector'])} | "
                 f"{_fmt(pred)} | {_fmt(l['busy_per_frame'])} | {_fmt(l['stall_per_frame'])} | "
                 f"{100 * l['busy_fraction']:.0f}% | {100 * l['stall_fraction']:.0f}% | {100 * l['idle_fraction']:.0f}% | "
                 f"{l['spike_density_out']:.3f} |")
    return L + [""]


def accuracy_md(res):
    from sw.training.curve import count_of
    rows = res["accuracy_sweep"]
    if not rows:
        return []
    L = ["## Accuracy against weight sparsity (recorded training runs)", "", "![accuracy](accuracy.png)", "",
         "From `artifacts/mnist-scnn5-sweep/*/report.json` (test-set runs; `artifacts/mnist-scnn5-sweep/PROVENANCE.md`).",
         "", "| run | seed | target | counted on | weight sparsity (nominal / deployed shapes) | non-zeros | deployed test accuracy |",
         "|---|---|---|---|---|---|---|"]
    for r in rows:
        L.append(f"| {r['name']} | {r['seed']} | {r['target']:g} | {count_of(r)} shapes | {r['sp']:.2f}% / {r['sp_dep']:.2f}% | "
                 f"{r['nnz']:,} | {r['acc']:.2f}% |")
    return L + [""]


def neurobench_md(res):
    r = res.get("neurobench")
    if not r:
        return []
    if r.get("error"):
        return ["## NeuroBench", "", f"{NYM}: {r['error']}", ""]
    nb, ours, px, n = r["neurobench"], r["ours"], r.get("neurobench_pixels"), r["frames"]
    v = r["versions"]
    src = (f"**{r['source']}**: `{r['command']}`" + (f" (file `{r['file']}`)" if r.get("file") else "")
           + (f", the same as `{r['same_as']}`" if r.get("same_as") else ""))
    ok = all(r["checks"].values())
    L = ["## NeuroBench", "",
         f"NeuroBench {v['neurobench']} (snntorch {v['snntorch']}, torch {v['torch']}) through its `TorchModel` "
         f"wrapper and `Benchmark`, on the trained SCNN5 (`{r['model']}`) and the first {n:,} MNIST test frames, "
         f"batches of {r['batch']}; {src}. The torch model is built from the artifact: integer weights, biases and "
         f"thresholds in {r['dtype']}, the integer LIF with its 2x2 OR pool as one `snntorch.SpikingNeuron`, layer 0 "
         "fed its 8 bit-planes (as the hardware). Its readout accumulators equal `sw.golden`'s on every frame "
         + ("(checked), and every exact relation below held." if ok else "(checked); **a relation below FAILED**: "
            + ", ".join(k for k, x in r["checks"].items() if not x) + "."), "",
         "| metric | NeuroBench | ours | relation |", "|---|---|---|---|",
         f"| footprint | {nb['footprint_bytes']:,} B ({nb['parameter_count']:,} parameters in {r['dtype']} + neuron buffers) "
         f"| {ours['artifact_bytes']:,} B (`model.ffs`: bitmaps + packed 4-bit weights) | different storage: dense floats vs "
         "sparse 4-bit |",
         f"| connection sparsity | {nb['connection_sparsity']:.4f} | {100 * ours['weight_sparsity']:.2f}% weight sparsity "
         f"({ours['nonzero_weights']:,} of {ours['weights']:,} weights non-zero, deployed shapes) | equal (NeuroBench "
         "rounds to 4 decimals) |",
         f"| activation sparsity | {nb['activation_sparsity']:.4f} | 1 - spike density {1 - ours['spike_density']:.4f} "
         "(sw.golden, firing layers' outputs after pooling) | equal per layer (exact counts); overall: NeuroBench "
         "averages over batches |",
         f"| synaptic ops: effective ACs/frame | {nb['effective_acs_per_frame']:,.1f} | matched pairs {ours['matched_pairs_per_frame']:,.1f}"
         f"; + bias ops {ours['bias_ops_per_frame']:,.0f} = work {ours['work_per_frame']:,.1f} | ACs = matched pairs: "
         "NeuroBench counts 0 per bias op |",
         f"| synaptic ops: effective MACs/frame | {nb['effective_macs_per_frame']:g} | - | layer 0 on bit-planes: no MACs |",
         f"| synaptic ops: dense/frame | {nb['dense_synops_per_frame']:,.0f} | in-bounds synapses x forward calls "
         f"{ours['in_bounds_synapses_x_calls_per_frame']:,.0f} | equal (zero padding not counted) |"]
    if px:
        L.append(f"| layer 0 fed the 8-bit pixels instead: MACs / ACs per frame | {px['effective_macs_per_frame']:,.1f} / "
                 f"{px['effective_acs_per_frame']:,.1f} | (non-zero pixel, non-zero weight) pairs "
                 f"{ours['layer0_pixel_pairs_per_frame']:,.1f} / matched pairs of layers 1.. | equal |")
    L += [f"| classification accuracy ({n:,} frames) | {100 * nb['classification_accuracy']:.2f}% | "
          f"{100 * ours['accuracy']:.2f}% (sw.golden) | same predictions |", "",
          "NeuroBench counts one accumulate per (non-zero input, non-zero weight) pair of every `Conv2d`/`Linear` call "
          "(T calls per frame, k = 8 bit-plane convolutions for layer 0), zeroes the bias, and counts a non-binary "
          "input as MACs (one per non-zero value, not per bit-plane). Its Footprint counts the torch model's "
          "float parameters and buffers, not a deployed format. Per layer (sw.golden; NeuroBench's activation "
          "sparsity by layer):", "",
          "| layer | token | weight sparsity | matched pairs/frame | bias ops/frame | spike density | NeuroBench "
          "activation sparsity |", "|---|---|---|---|---|---|---|"]
    by = nb["activation_sparsity_by_layer"]
    for l in ours["layers"]:
        i = l["layer"]
        dens = "-" if l["spike_density"] is None else f"{l['spike_density']:.4f}"
        act = f"{by[i]:.4f}" if i < len(by) else "- (readout: no spikes)"
        L.append(f"| {i} | `{l['token']}` | {100 * l['weight_sparsity']:.2f}% | {_fmt(l['matched_pairs_per_frame'], 1)} | "
                 f"{_fmt(l['bias_ops_per_frame'])} | {dens} | {act} |")
    def sec(x):
        return f"{x:.1f} s" if x < 10 else f"{x:.0f} s"
    t = [f"{sec(r['neurobench_seconds'])} for NeuroBench's run with bit-planes"]
    if r.get("neurobench_pixels_seconds"):
        t.append(f"{sec(r['neurobench_pixels_seconds'])} for the run on pixels")
    t.append(f"{sec(r['golden_seconds'])} for sw.golden")
    if r.get("seconds"):
        t.append(f"{sec(r['seconds'])} in all (without imports)")
    return L + ["", "Time: " + ", ".join(t) + f" ({res['meta']['host']}).", ""]


def figures_md(res):
    L = ["## Every figure", "", "Recorded figures were written at earlier commits (the file's time is given); the RTL "
         "may have changed since (for instance issue 14's watchdog).", "", "| figure | value | unit | source | command |", "|---|---|---|---|---|"]
    for f in res["figures"]:
        v = f["value"]
        v = f"{v:.4g}" if isinstance(v, float) and v < 10 else _fmt(v, 2 if f["unit"].startswith("%") else 0)
        when = f", {f['file_utc']}" if f.get("file_utc") else ""
        cmd = f"`{f['command']}`" + (f" (file `{f['file']}`{when})" if f.get("file") else "")
        L.append(f"| {f['name']} | {v} | {f['unit']} | {f['source']} | {cmd} |")
    return L + [""]


def missing_md(res):
    have = {f["name"] for f in res["figures"]}
    miss = ["yosys resources of the models stage's builds (balance()'s prediction only)",
            "the ECP5 (ULX3S) build in this benchmark (its routed figures: docs/soc.md, bench/ulx3s_scnn5.py)",
            "routed timing and Fmax of the xc7 builds (no Vivado/nextpnr-xilinx run); energy"]
    if any(not p.get("yosys") for p in res.get("pareto", [])):
        miss.insert(0, "yosys LUTs for some Pareto points (the full run synthesizes each; --quick and "
                    "--no-pareto-synth only use recorded ones)")
    for part, name in (("a7-35", "A7-35T"), ("a7-100", "A7-100T")):
        if f"soc_{part}_lut" not in have:
            miss.append(f"the whole Arty {name} SoC (yosys, `arty.py --synth-estimate`)")
    if not res.get("models"):
        miss.append("the models stage: SCNN5 on Fashion-MNIST, SCNN7 and SCNN9 (untrained) in RTL on each part")
    nb = res.get("neurobench")
    if not nb or nb.get("error"):
        miss.append("NeuroBench metrics (footprint, connection and activation sparsity, synaptic operations)"
                    + (f": {nb['error']}" if nb else ""))
    if "litex_sim_speedup" not in have:
        miss.append("the accelerator against the firmware's CPU reference (litex_sim)")
    return ["## Not yet measured", ""] + [f"- {m}" for m in miss] + [""]


def main(argv=None):
    import argparse

    import recorded
    ap = argparse.ArgumentParser(prog="python bench/page.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="results.json of bench/run.py")
    ap.add_argument("--neurobench", metavar="FILE", help="a bench/neurobench.py --json output to record first")
    args = ap.parse_args(argv)
    try:
        with open(args.results) as fh:
            res = json.load(fh)
        if args.neurobench:
            block, figs = recorded.neurobench_recorded(args.neurobench)
            res["neurobench"] = block
            res["figures"] = [f for f in res["figures"] if f["name"] not in {g["name"] for g in figs}] + figs
            with open(args.results, "w") as fh:
                json.dump(res, fh, indent=1, default=float)
    except (OSError, ValueError, KeyError) as e:
        ap.exit(1, f"error: {e}\n")
    render(res, os.path.dirname(os.path.abspath(args.results)))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
