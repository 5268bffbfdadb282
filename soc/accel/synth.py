"""Resource and timing estimate of the generated accelerator: yosys synth_xilinx -family xc7 -abc9, then
LUT/FF/BRAM/DSP and the logic-only critical path (soc.timing: yosys' cell delays, no routing); for an
ECP5 part (lfe5u-45, lfe5u-85) yosys synth_ecp5 -abc9: LUT4 sites, FF, DP16KD, MULT18 (no timing: the
routed figure comes from nextpnr in soc/targets/ulx3s.py).

    python -m soc.accel.synth --model M.ffs [--part a7-35|a7-100|lfe5u-45|lfe5u-85] [--parallelism 8x9,...] [--json OUT]

No Vivado here, so this is yosys' mapping (LUT6/LUTRAM/RAMB18/RAMB36/DSP48E1 cells); it is an
estimate, not a placed-and-routed result. The standalone accelerator's ports are registered (as the
SoC's clock-domain-crossing FIFOs do), so every timed path runs between registers.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from migen import Module, Signal

from sw.artifact import ArtifactError, Model

from .. import timing
from ..synth_estimate import LUTRAM, SynthError, synth_xc7
from ..synth_estimate import parse_stat as parse_xc7_stat
from ..trellis import TrellisError, synth_ecp5
from .balance import PARTS, SIM_PART, Budget, configure, family
from .config import AccelConfig, ConfigError
from .core import AccelCore
from .verilog import convert

ROOT = Path(__file__).resolve().parents[2]


class Registered(Module):
    """The core with a register on every top-level input and output (the timing harness)."""

    def __init__(self, core):
        self.submodules.core = core
        self.io = set()
        outs = {core.load.ready, core.frames.ready, core.results.valid, core.results.first, core.results.last,
                core.results.data, core.idle, core.load_done, core.load_error, core.cycles}
        for group in (core.busy, core.stall, core.pairs, core.empty):
            outs |= set(group)
        for sig in sorted(core.ios(), key=lambda x: x.duid):
            pin = Signal(len(sig), name=f"pin{len(self.io)}")
            self.io.add(pin)
            self.sync += pin.eq(sig) if sig in outs else sig.eq(pin)


def verilog(cfg: AccelConfig, registered: bool = False) -> str:
    core = AccelCore(cfg)
    if registered:
        top = Registered(core)
        return convert(top, ios=top.io, name="accel")
    return convert(core, ios=core.ios(), name="accel")


def parse_stat(text: str) -> dict:
    """soc.synth_estimate's cell summary with the accelerator's keys: `lut` is logic LUTs only,
    `lut_mem` the LUTs used as distributed RAM / shift registers, `lc_estimate` yosys' own LC count."""
    r = parse_xc7_stat(text)
    lcs = re.findall(r"Estimated number of LCs:\s+(\d+)", text)
    return dict(r, lut=r["lut_logic"], lut_all=r["lut"], lc_estimate=int(lcs[-1]) if lcs else None,
                lutram_cells=sum(v for k, v in r["cells"].items() if k in LUTRAM), bram36_equiv=r["bram36"])


def synthesize(cfg: AccelConfig, keep: Path | None = None, timeout: int = 7200) -> dict:
    """yosys synth_xilinx of the registered core in `keep` (default build/synth/<signature>): cell counts
    (parse_stat) and `timing` (soc.timing.analyze)."""
    d = Path(keep) if keep else ROOT / "build" / "synth" / f"{cfg.signature:08x}"
    d.mkdir(parents=True, exist_ok=True)
    top = Registered(AccelCore(cfg))
    (d / "accel.v").write_text(convert(top, ios=top.io, name="accel"))
    r = synth_xc7(d, [d / "accel.v"], "accel", timeout=timeout)
    out = dict(parse_stat((d / "yosys_stat.txt").read_text()), timing=r["timing"], seconds=r["seconds"])
    out["harness_ff"] = sum(len(pin) for pin in top.io)     # the port registers, not the core's
    out["ff"] -= out["harness_ff"]
    return out


def synthesize_ecp5(cfg: AccelConfig, keep: Path | None = None, timeout: int = 7200) -> dict:
    """yosys synth_ecp5 of the registered core in `keep` (default build/synth-ecp5/<signature>):
    soc.trellis.synth_ecp5's cell counts (`trellis_comb`: LUT4 sites after nextpnr's packer), the port
    registers not counted in `ff`."""
    d = Path(keep) if keep else ROOT / "build" / "synth-ecp5" / f"{cfg.signature:08x}"
    d.mkdir(parents=True, exist_ok=True)
    top = Registered(AccelCore(cfg))
    (d / "accel.v").write_text(convert(top, ios=top.io, name="accel"))
    out = synth_ecp5(d, [d / "accel.v"], "accel", timeout=timeout)
    out["harness_ff"] = sum(len(pin) for pin in top.io)
    out["ff"] -= out["harness_ff"]
    return out


def main(argv=None):
    from .rtlsim import parse_parallelism
    from sw.cli import OneLineParser, output_problem, write_output
    ap = OneLineParser(prog="python -m soc.accel.synth", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--parallelism", help="PCOxPCI per layer (default: balance() for --part)")
    ap.add_argument("--part", default=SIM_PART, choices=sorted(PARTS),
                    help=f"size the accelerator for this FPGA (default {SIM_PART}, like the litex_sim SoC)")
    ap.add_argument("--json")
    ap.add_argument("--keep", help="work in this directory (default build/synth/<signature>; not under /tmp)")
    args = ap.parse_args(argv)
    if args.keep:                                  # the work folder may hold the JSON: make it first
        try:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            ap.error(f"--keep {args.keep}: cannot create: {e.strerror}")
    if output_problem(args.json):                  # before the minutes of synthesis, not after
        ap.error(f"--json {output_problem(args.json)}")
    try:
        model = Model.load(args.model)
        cfg = configure(model, parse_parallelism(args.parallelism) if args.parallelism else None,
                        budget=Budget.for_part(args.part))
    except (ArtifactError, ConfigError, ValueError) as e:
        ap.exit(1, f"error: {e}\n")
    keep = Path(args.keep) if args.keep else None
    print(f"parallelism {','.join(f'{a}x{b}' for a, b in cfg.parallelism)}")
    if family(args.part) == "ecp5":
        try:
            r = synthesize_ecp5(cfg, keep)
        except TrellisError as e:
            ap.exit(1, f"error: {e}\n")
        print(f"TRELLIS_COMB {r['trellis_comb']} (nextpnr's packer; yosys LUT4 {r['lut4_logic']}, CCU2C {r['ccu2c']}, "
              f"DPR16X4 {r['dpr16x4']})  "
              f"FF {r['ff']}  DP16KD {r['dp16kd']}  MULT18 {r['mult18']}  ({r['seconds']:.0f} s)")
    else:
        try:
            r = synthesize(cfg, keep)
        except SynthError as e:
            ap.exit(1, f"error: {e}\n")
        print(f"LUT {r['lut']} (yosys estimated LCs {r['lc_estimate']})  FF {r['ff']}  BRAM36-equiv "
              f"{r['bram36_equiv']:g} (RAMB36 {r['ramb36']}, RAMB18 {r['ramb18']})  DSP {r['dsp']}  "
              f"LUTRAM cells {r['lutram_cells']} ({r['lut_mem']} LUTs)  ({r['seconds']:.0f} s)")
        print(timing.summary(r["timing"]))
    if args.json:
        r = dict(r, parallelism=cfg.parallelism, model=args.model, part=args.part)
        try:
            write_output(args.json, json.dumps(r, indent=1))
        except Exception as e:                      # sw.cli.CLIError: one line naming the path
            ap.exit(1, f"error: {e}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
