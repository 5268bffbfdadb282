"""Figures measured earlier, read from the files their commands wrote (not re-measured by bench/run.py),
and FireFly-S's published figures. A file that is not there gives no figure ("not yet measured")."""
import datetime
import functools
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = "artifacts/mnist-scnn5/model.ffs"

# FireFly-S (Li et al., IEEE TCSI 2024), SCNN5 on MNIST, as collected in ../shared/design/firefly-s.md:
# LUT/FF/BRAM36/FPS from Table IV and VI, accuracy @ sparsity from Table VII, 333 MHz on a Kria KV260,
# no DSPs ("LUT arithmetic only"), 4-bit weights; cycles/frame = 333 MHz / 10,047 FPS.
PAPER_SCNN5 = {"lut": 30_911, "ff": 55_986, "bram36": 5, "dsp": 0, "clock_mhz": 333, "fps": 10_047,
               "accuracy": 98.03, "weight_sparsity": 93.82, "precision": "4-bit weights",
               "device": "Kria KV260 (xczu5ev), Vivado"}
PAPER_SCNN5["cycles_per_frame"] = PAPER_SCNN5["clock_mhz"] * 1e6 / PAPER_SCNN5["fps"]
PAPER_CITE = "FireFly-S, Table IV/VI (resources, FPS) and Table VII (accuracy), via ../shared/design/firefly-s.md"

SYNTH = "python -m soc.accel.synth --model artifacts/mnist-scnn5/model.ffs --part {part} --json {file}"
SOURCES = {
    "synth_a7-100": ("build/final/a7-100-s4b.json", SYNTH.format(part="a7-100", file="build/final/a7-100-s4b.json")),
    "synth_a7-35": ("build/final/a7-35-s4.json", SYNTH.format(part="a7-35", file="build/final/a7-35-s4.json")),
    "soc_a7-35": ("build/final/arty35-s4/gateware/yosys_estimate.json",
                  "python soc/targets/arty.py --model artifacts/mnist-scnn5/model.ffs --synth-estimate "
                  "(output folder build/final/arty35-s4)"),
    "soc_a7-100": ("build/final/arty100/gateware/yosys_estimate.json",
                   "python soc/targets/arty.py --variant a7-100 --model artifacts/mnist-scnn5/model.ffs --synth-estimate "
                   "(output folder build/final/arty100)"),
    "demo": ("build/demo-sim.json", "make demo"),
    "soak": ("bench/results/soak-mnist-1000.json", None),
    "model_report": ("artifacts/mnist-scnn5/report.json", None),
}
RTL10K = [f"build/final/rtl10k_{k}.json" for k in (0, 2500, 5000, 7500)]
RTL10K_ONE = "build/final/rtl10k.json"
RTL10K_CMD = ("python -m soc.accel.rtlsim --model artifacts/mnist-scnn5/model.ffs --dataset mnist "
              "--parallelism 6x9,16x54,29x24,13x29,22x52,1x24 --offset K --limit 2500 --jobs 2 --json "
              "build/final/rtl10k_K.json, K = 0, 2500, 5000, 7500")


def _load(rel):
    p = os.path.join(ROOT, rel)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)


def fig(name, value, unit, command, file=None, **extra):
    d = {"name": name, "value": value, "unit": unit, "source": "recorded", "command": command}
    if file:
        d["file"] = file
        p = os.path.join(ROOT, file.replace("*", "0"))
        if os.path.exists(p):      # when the recording was made: the RTL may have changed since
            d["file_utc"] = file_time(p)
    d.update(extra)
    return d


def file_time(path):
    """When the file at `path` was written, as an ISO UTC minute: its last commit's time when git tracks
    it unchanged (a fresh clone sets every mtime to the checkout), else its modification time."""
    return _file_time(ROOT, path, os.path.getmtime(path))


@functools.lru_cache(maxsize=None)     # several figures come from one file: ask git once per file version
def _file_time(root, path, mtime):
    rel = os.path.relpath(path, root)
    try:
        git = ["git", "-C", root]
        changed = subprocess.run(git + ["status", "--porcelain", "--", rel], capture_output=True, text=True, check=True).stdout
        stamp = subprocess.run(git + ["log", "-1", "--format=%ct", "--", rel], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        changed, stamp = "", ""
    t = int(stamp) if stamp.strip() and not changed.strip() else mtime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="minutes")


def synth_parallelism(d):
    return ",".join(f"{a}x{b}" for a, b in d["parallelism"])


def recorded():
    """(figures, synth) where synth maps a parallelism string to its recorded yosys resources."""
    figs, synth = [], {}
    for key in ("synth_a7-100", "synth_a7-35"):
        file, cmd = SOURCES[key]
        d = _load(file)
        if d is None:
            continue
        par = synth_parallelism(d)
        t = d.get("timing") or {}
        res = {"lut": d["lut"], "lut_mem": d["lut_mem"], "ff": d["ff"], "bram36": d["bram36_equiv"],
               "dsp": d["dsp"], "critical_ns": t.get("critical_ns"), "file": file, "command": cmd}
        synth[par] = res
        part = key.split("_")[1]
        for k, unit in (("lut", "logic LUTs (yosys synth_xilinx)"), ("lut_mem", "LUTs as LUTRAM"),
                        ("ff", "FF"), ("bram36", "RAMB36-equivalents"), ("critical_ns", "ns, logic only")):
            if res[k] is not None:
                figs.append(fig(f"accel_{part}_{k}", res[k], unit, cmd, file, parallelism=par))
        figs.append(fig(f"accel_{part}_dsp", d["dsp"], "DSP", cmd, file, parallelism=par, zero_ok=True))
    for part, name in (("a7-35", "A7-35T"), ("a7-100", "A7-100T")):
        file, cmd = SOURCES[f"soc_{part}"]
        d = _load(file)
        if d is None:
            continue
        for k, unit in (("lut", f"LUTs incl. LUTRAM (yosys, whole Arty {name} SoC)"), ("ff", "FF"),
                        ("bram36", "RAMB36-equivalents"), ("dsp", "DSP")):
            figs.append(fig(f"soc_{part}_{k}", d[k], unit, cmd, file))
        t = d.get("timing") or {}
        if t.get("critical_ns"):
            figs.append(fig(f"soc_{part}_critical_ns", t["critical_ns"], "ns, logic only (whole SoC)", cmd, file))
    one = _load(RTL10K_ONE)                      # one whole-set run (bench/accel_mnist10k.py --json)
    runs = [one] if one else [_load(f) for f in RTL10K]
    cmd, file = (one["command"], RTL10K_ONE) if one else (RTL10K_CMD, "build/final/rtl10k_*.json")
    if all(runs):
        n = sum(r["n"] for r in runs)
        agree = sum(r["agreement"] * r["n"] for r in runs) / n
        figs.append(fig("rtl_10k_frames", n, "frames", cmd, file))
        figs.append(fig("rtl_10k_agreement", agree, "fraction of frames equal to golden", cmd))
        figs.append(fig("rtl_10k_accuracy", sum(r["accuracy"] * r["n"] for r in runs) / n, "fraction",
                        cmd, parallelism=synth_parallelism(runs[0])))
        figs.append(fig("rtl_10k_cycles_per_frame", sum(r["cycles_per_frame"] for r in runs) / len(runs),
                        f"cycles/frame (steady state{', mean of 4 runs' if len(runs) == 4 else ''})", cmd,
                        parallelism=synth_parallelism(runs[0])))
    file, cmd = SOURCES["demo"]
    d = _load(file)
    if d is not None:
        figs.append(fig("litex_sim_accel_cycles_per_frame", d["cycles_per_frame"], "accel cycles/frame", cmd, file,
                        frames=d["n"]))
        figs.append(fig("litex_sim_cpu_cycles_per_frame", d["cpu_cycles_per_frame"], "CPU cycles/frame (firmware "
                        "reference, 100 MHz sys clock)", cmd, file))
        figs.append(fig("litex_sim_speedup", d["speedup"], "x in time at the Arty clocks", cmd, file))
    file, _ = SOURCES["soak"]
    d = _load(file)
    if d is not None:
        figs.append(fig("soak_frames", d["frames"], "frames", d["command"], file))
        figs.append(fig("soak_agreement", d["agreement"], "fraction", d["command"], file))
        figs.append(fig("soak_cycles_per_frame", d["cycles_per_frame"], "cycles/frame", d["command"], file))
    file, _ = SOURCES["model_report"]
    d = _load(file)
    if d is not None:
        figs.append(fig("scnn5_mnist_accuracy", 100 * d["accuracy"]["deployed"], "% (10k MNIST test, deployed 4-bit)",
                        ".venv/bin/python sw/training/run.py (report: artifacts/mnist-scnn5/report.json)", file))
        figs.append(fig("scnn5_mnist_weight_sparsity", 100 * d["weight_sparsity"], "%",
                        ".venv/bin/python sw/training/run.py", file))
    return figs, synth


NEUROBENCH_CMD = "python bench/neurobench.py --frames {n} --json {file}"


def neurobench_figures(r, source, command, file=None):
    """The figures of one bench/neurobench.py result `r`: NeuroBench's and ours on the same frames."""
    nb, ours, n = r["neurobench"], r["ours"], r["frames"]
    tool = f"NeuroBench {r['versions']['neurobench']}"
    rows = [("neurobench_footprint", nb["footprint_bytes"], f"bytes ({tool} Footprint: the {r['dtype']} torch model)"),
            ("neurobench_parameter_count", nb["parameter_count"], f"parameters ({tool} ParameterCount)"),
            ("neurobench_connection_sparsity", nb["connection_sparsity"], f"fraction of zero weights ({tool})"),
            ("neurobench_activation_sparsity", nb["activation_sparsity"],
             f"fraction of zero spikes, all firing layers' outputs after pooling ({tool})"),
            ("neurobench_effective_acs_per_frame", nb["effective_acs_per_frame"],
             f"accumulates/frame ({tool} SynapticOperations, layer 0 on bit-planes)"),
            ("neurobench_effective_macs_per_frame", nb["effective_macs_per_frame"],
             f"MACs/frame ({tool}, layer 0 on bit-planes)"),
            ("neurobench_dense_synops_per_frame", nb["dense_synops_per_frame"], f"synaptic ops/frame, dense ({tool})"),
            ("golden_matched_pairs_per_frame", ours["matched_pairs_per_frame"], "pairs/frame (sw.golden, all layers)"),
            ("golden_bias_ops_per_frame", ours["bias_ops_per_frame"], "bias operations/frame (sw.golden)"),
            ("golden_spike_density", ours["spike_density"], "fraction of ones, firing layers' outputs (sw.golden)"),
            ("artifact_bytes", ours["artifact_bytes"], "bytes (model.ffs)"),
            ("artifact_weight_sparsity", ours["weight_sparsity"], "fraction of zero weights, deployed shapes")]
    px = r.get("neurobench_pixels")
    if px:
        rows += [("neurobench_pixels_effective_macs_per_frame", px["effective_macs_per_frame"],
                  f"MACs/frame ({tool}, layer 0 on the 8-bit pixels)"),
                 ("neurobench_pixels_effective_acs_per_frame", px["effective_acs_per_frame"],
                  f"accumulates/frame ({tool}, layer 0 on the 8-bit pixels)")]
    out = []
    for name, value, unit in rows:
        d = {"name": name, "value": value, "unit": unit, "source": source, "command": command, "frames": n}
        if name == "neurobench_effective_macs_per_frame":
            d["zero_ok"] = True
        if file:
            d = dict(fig(name, value, unit, command, file, frames=n), **{k: v for k, v in d.items() if k == "zero_ok"})
        out.append(d)
    return out


def neurobench_recorded(file):
    """(block, figures) from a JSON written by bench/neurobench.py --json (figures marked recorded)."""
    with open(file if os.path.isabs(file) else os.path.join(ROOT, file)) as f:
        r = json.load(f)
    rel = os.path.relpath(os.path.abspath(file), ROOT)
    cmd = r.get("command") or NEUROBENCH_CMD.format(n=r["frames"], file=rel)
    r = dict(r, source="recorded", file=rel, command=cmd)
    return r, neurobench_figures(r, "recorded", cmd, rel)
