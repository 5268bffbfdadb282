"""Resource estimate of a generated Xilinx 7-series SoC with yosys synth_xilinx (no Vivado needed).

    util = estimate(soc, builder, part="a7-35")   # after builder.build(...) generated the Verilog
    print(report(util, "a7-35"))

LUTs count logic and LUT-based memories/shift registers (what Vivado calls Slice LUTs); BRAM is in
RAMB36 equivalents (RAMB18 = 1/2). yosys maps somewhat differently from Vivado: an estimate.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

PARTS = {   # device: LUT, FF, RAMB36, DSP48E1
    "a7-35": {"name": "XC7A35T", "lut": 20800, "ff": 41600, "bram36": 50, "dsp": 90},
    "a7-100": {"name": "XC7A100T", "lut": 63400, "ff": 126800, "bram36": 135, "dsp": 240},
}
LUTRAM = {"RAM16X1S": 1, "RAM32X1S": 1, "RAM64X1S": 1, "RAM16X1D": 2, "RAM32X1D": 2, "RAM64X1D": 2,
          "RAM128X1S": 2, "RAM128X1D": 4, "RAM256X1S": 4, "RAM32M": 4, "RAM64M": 4, "RAM32M16": 8,
          "RAM64M8": 8, "SRL16E": 1, "SRLC32E": 1, "SRLC16E": 1}


class SynthError(RuntimeError):
    """yosys is missing or failed; the message says which."""


def parse_stat(text: str) -> dict:
    """Cell counts of the last `stat` block of a yosys log, summed into LUT/FF/BRAM36/DSP."""
    block = text[text.rfind("Number of cells:"):]
    cells = {}
    for name, count in re.findall(r"^\s+(\w+)\s+(\d+)\s*$", block, re.M):
        cells[name] = int(count)
    lut_logic = sum(v for k, v in cells.items() if re.fullmatch(r"LUT[1-6]", k))
    lut_mem = sum(LUTRAM[k] * v for k, v in cells.items() if k in LUTRAM)
    ff = sum(v for k, v in cells.items() if re.fullmatch(r"FD[A-Z]*", k))
    bram36 = cells.get("RAMB36E1", 0) + cells.get("RAMB18E1", 0) / 2
    return {"lut": lut_logic + lut_mem, "lut_logic": lut_logic, "lut_mem": lut_mem, "ff": ff,
            "bram36": bram36, "ramb36": cells.get("RAMB36E1", 0), "ramb18": cells.get("RAMB18E1", 0),
            "dsp": cells.get("DSP48E1", 0), "cells": cells}


def fits(util: dict, part: str) -> bool:
    p = PARTS[part]
    return all(util[k] <= p[k] for k in ("lut", "ff", "bram36", "dsp"))


def smallest_part(util: dict):
    return next((k for k in PARTS if fits(util, k)), None)


def estimate(soc, builder, part: str = "a7-35", top: str = "digilent_arty", jobs_log=None) -> dict:
    if shutil.which("yosys") is None:
        raise SynthError("yosys not on PATH (apt-get install yosys)")
    gw = Path(builder.gateware_dir)
    sources = [str(Path(f).resolve()) for f, lang, *_ in soc.platform.sources if lang in ("verilog", "systemverilog")]
    top_v = gw / f"{top}.v"
    if not top_v.exists():
        raise SynthError(f"{top_v} missing: generate the SoC first (--build --no-compile-gateware)")
    files = [str(top_v)] + [s for s in sources if Path(s).name != top_v.name]
    script = "\n".join([f"read_verilog -sv {f}" for f in files] +
                       [f"synth_xilinx -family xc7 -top {top} -flatten", "tee -o yosys_stat.txt stat"])
    (gw / "yosys_estimate.ys").write_text(script + "\n")
    r = subprocess.run(["yosys", "-q", "-l", "yosys_estimate.log", "-s", "yosys_estimate.ys"], cwd=gw,
                       capture_output=True, text=True)
    if r.returncode != 0:
        log = (gw / "yosys_estimate.log").read_text()[-2000:] if (gw / "yosys_estimate.log").exists() else r.stderr
        raise SynthError(f"yosys synth_xilinx failed in {gw}:\n{log}")
    util = parse_stat((gw / "yosys_stat.txt").read_text())
    util["part"] = part
    return util


def report(util: dict, part: str) -> str:
    p = PARTS[part]
    rows = [("LUT", "lut", f" (logic {util['lut_logic']}, memory/SRL {util['lut_mem']})"), ("FF", "ff", ""),
            ("RAMB36 eq.", "bram36", f" ({util['ramb36']} RAMB36 + {util['ramb18']} RAMB18)"), ("DSP48E1", "dsp", "")]
    lines = [f"yosys synth_xilinx estimate of the whole SoC against {p['name']} ({part}):"]
    for label, key, extra in rows:
        lines.append(f"  {label:<11} {util[key]:>8g} / {p[key]:<6} {100 * util[key] / p[key]:5.1f}%{extra}")
    best = smallest_part(util)
    lines.append(f"  fits {p['name']}: {'yes' if fits(util, part) else 'no'}"
                 + ("" if fits(util, part) else f" (smallest that fits: {PARTS[best]['name'] if best else 'none'})"))
    return "\n".join(lines)
