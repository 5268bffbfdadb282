#!/usr/bin/env python3
"""Radiona ULX3S (Lattice ECP5): the litex-boards BaseSoC (VexRiscv, SDRAM main RAM without the L2 cache,
USB-serial UART) plus the SNN accelerator, built with the open flow from PyPI (yosys + nextpnr-ecp5 + ecppack).

    python soc/targets/ulx3s.py --model M.ffs --build [--device LFE5U-85F|LFE5U-45F] [--accel-clk-freq 100e6] [--load]

--build runs LiteX's trellis toolchain with the pinned `yowasp-*` tools (soc.trellis), builds the
firmware, and writes the routed report `<output>/ulx3s_report.json`: utilisation against the device,
routed Fmax per clock domain (sys, accel) with PASS/FAIL at the requested clocks, each domain's critical
path, wall time. The accelerator runs in clock domain `accel`, a third output of the board's PLL; every
sys <-> accel crossing is synchronized (soc.accel_cdc), and nextpnr times the two domains apart.
"""
from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from migen import ClockDomain, Signal

from litex.soc.integration.builder import Builder
from litex_boards.platforms import radiona_ulx3s
from litex_boards.targets.radiona_ulx3s import BaseSoC

from soc.accel.verilog import yosys_keep
from soc.accel_options import accel_config_from_args, add_accel_args
from soc.peripheral import add_snn_accel
from sw.cli import one_line_error

DEVICES = {"LFE5U-45F": "lfe5u-45", "LFE5U-85F": "lfe5u-85"}     # device -> soc.accel.balance part
SYS_CLK_FREQ = 50e6             # litex-boards' default; without the L2 the sys domain routed at 66-67 MHz (docs/soc.md)
L2_SIZE = 0                     # no L2 cache in front of the SDRAM: its tag compare -> data_mem write enable was
                                # the sys clock's worst path in every build with it (docs/soc.md); --l2-size N puts it back
# the accelerator clock per device: the PLL makes it and nextpnr is asked for it, so it is one the default
# build's routed timing supports, with a margin (docs/soc.md); --accel-clk-freq 100e6 asks for issue 15's goal
ACCEL_CLK_FREQ = {"LFE5U-45F": 90e6, "LFE5U-85F": 60e6}
NEXTPNR_ROUTER = "router1"      # nextpnr's default; router2 is faster when it converges, but on the SCNN5 85F SoC
                                # it mostly did not (docs/soc.md, eighth session)
# nextpnr's seed per device, one whose placement router1 routed for the default SCNN5 netlist (docs/soc.md: on
# the 85F's dated netlist of the ninth session seed 1 stalled and seed 3 routed; on the tenth session's dateless
# one seed 1 routed; on the twelfth session's (the registered join) seed 1 stalled and seed 2 routed). A seed
# only names a placement of one netlist (hence no date in the identifier, below): a changed
# accelerator may need another (--nextpnr-seed)
NEXTPNR_SEED = {"LFE5U-45F": 1, "LFE5U-85F": 2}
NEXTPNR_PLACER = "heap"         # nextpnr's default; "static" places the SCNN5 SoC that HeAP stalls on (docs/soc.md)


class ULX3SSNNSoC(BaseSoC):
    """BaseSoC + the accelerator on its own output of the ECP5 PLL; the timer's uptime counter gives the
    firmware its CPU cycles."""

    def __init__(self, accel_config, accel_clk_freq, **kwargs):
        kwargs["timer_uptime"] = True
        BaseSoC.__init__(self, **kwargs)
        self.crg.cd_accel = ClockDomain("accel")
        self.crg.pll.create_clkout(self.crg.cd_accel, accel_clk_freq)     # pll_problem() checks it first
        self.platform.add_false_path_constraints(self.crg.cd_sys.clk, self.crg.cd_accel.clk)
        add_snn_accel(self, accel_config, name="snn", accel_clk_freq=accel_clk_freq)


def pll_problem(sys_clk_freq: float, accel_clk_freq: float) -> str | None:
    """Why the board's PLL (25 MHz in; sys, sys_ps at 90 degrees, as litex-boards' CRG, and accel) cannot
    make these clocks, or None. Checked before the SoC is built, with LiteX's log quiet."""
    import logging
    from litex.soc.cores.clock import ECP5PLL
    logging.disable(logging.INFO)
    try:
        pll = ECP5PLL()
        pll.register_clkin(Signal(), 25e6)
        pll.create_clkout(ClockDomain("sys"), sys_clk_freq)
        pll.create_clkout(ClockDomain("sys_ps"), sys_clk_freq, phase=90)
        pll.create_clkout(ClockDomain("accel"), accel_clk_freq)
        pll.compute_config()
    except (ValueError, AssertionError) as e:
        return str(e) or "out of the PLL's range"
    finally:
        logging.disable(logging.NOTSET)
    return None


def pll_pair_within(sys_max_hz: float, accel_max_hz: float) -> tuple[float, float] | None:
    """The fastest (sys, accel) pair in whole MHz, at most these, that pll_problem() accepts (the accel
    clock, which sets the frame rate, first), or None within 30 MHz below each."""
    for accel in range(int(accel_max_hz // 1e6), max(int(accel_max_hz // 1e6) - 30, 0), -1):
        for sys_mhz in range(int(sys_max_hz // 1e6), max(int(sys_max_hz // 1e6) - 30, 0), -1):
            if pll_problem(sys_mhz * 1e6, accel * 1e6) is None:
                return sys_mhz * 1e6, accel * 1e6
    return None


def build_parser():
    from litex.build.parser import LiteXArgumentParser   # after litex.soc: the module imports are circular
    parser = LiteXArgumentParser(platform=radiona_ulx3s.Platform)
    parser.prog = "python soc/targets/ulx3s.py"
    parser.description = "FireFly-S SoC on the Radiona ULX3S (ECP5), open flow."
    parser.error = functools.partial(one_line_error, parser)
    parser.add_target_argument("--device", default="LFE5U-85F", choices=sorted(DEVICES), help="FPGA device.")
    parser.add_target_argument("--revision", default="2.0", choices=("2.0", "1.7"), help="Board revision.")
    parser.add_target_argument("--sdram-module", default="MT48LC16M16", choices=("MT48LC16M16", "AS4C32M16", "AS4C16M16"),
                               help="SDRAM module.")
    parser.add_target_argument("--sys-clk-freq", default=SYS_CLK_FREQ, type=float, help="System clock frequency (Hz).")
    parser.add_target_argument("--accel-clk-freq", default=None, type=float,
                               help="Accelerator clock frequency (Hz, its own PLL output; default: "
                                    + ", ".join(f"{d} {f / 1e6:g} MHz" for d, f in sorted(ACCEL_CLK_FREQ.items()))
                                    + ", what their default builds route at, with a margin).")
    parser.add_target_argument("--nextpnr-router", default=NEXTPNR_ROUTER, choices=("router1", "router2"),
                               help="nextpnr's router (docs/soc.md: router2 diverged on 9 of 11 SCNN5 85F netlists; "
                                    "router1 routed 2 of 5 placements of the 65%% one, in 25-33 min; where it stalls, "
                                    "try another --nextpnr-seed).")
    parser.add_target_argument("--nextpnr-placer", default=NEXTPNR_PLACER, choices=("static", "heap", "sa"),
                               help="nextpnr's placer (docs/soc.md: on the SCNN5 SoC with the loader's write tree, "
                                    "heap's first legalisation ran > 60 min; static placed it in 20 min, but "
                                    "router2 did not converge on that placement).")
    add_accel_args(parser)
    # no build date in the SoC identifier: it is LUT logic, so each day's netlist (and the placement a seed
    # gives) would differ; without it the same sources give the same netlist, and NEXTPNR_SEED stays valid
    parser.set_defaults(l2_size=L2_SIZE, no_ident_version=True)
    return parser


def seed_given(argv) -> bool:
    """--nextpnr-seed on the command line, or an abbreviation argparse takes for it (LiteX's parser gives it
    a default of its own, 1)."""
    opts = [a.split("=")[0] for a in argv]
    return any(len(o) > len("--nextpnr-") and "--nextpnr-seed".startswith(o) for o in opts)


def write_report(out: Path, builder, soc, args, cfg, seconds: dict) -> dict:
    from soc.trellis import DEVICES as CAPACITY, routed_report, summary
    gw = Path(builder.gateware_dir)
    name = soc.platform.name
    rep = routed_report(gw / f"{name}_nextpnr_report.json", gw / f"{name}_nextpnr.log",
                        {"sys": args.sys_clk_freq, "accel": args.accel_clk_freq}, CAPACITY[args.device])
    rep = dict(device=args.device, parallelism=[list(p) for p in cfg.parallelism], model=args.model,
               nextpnr_seed=args.nextpnr_seed,
               bitstream=str(gw / f"{name}.bit"), **rep, seconds=seconds)
    out.write_text(json.dumps(rep, indent=1))
    print(f"[ulx3s] {args.device}, accelerator {','.join(f'{a}x{b}' for a, b in cfg.parallelism)}:")
    print(summary(rep))
    print(f"[ulx3s] report {out}; bitstream {rep['bitstream']} ({seconds['gateware']:.0f} s gateware)")
    clocks = rep["clocks"]
    failing = [dom for dom, c in clocks.items() if c["verdict"] != "PASS"]
    if failing:
        limit = {d: min(c["target_mhz"], c["fmax_mhz"]) * 1e6 for d, c in clocks.items()}
        pair = pll_pair_within(limit["sys"], limit["accel"])
        advice = (f"rebuild with --sys-clk-freq {pair[0] / 1e6:g}e6 --accel-clk-freq {pair[1] / 1e6:g}e6 (a pair the PLL makes)"
                  if pair else "no PLL pair within the routed Fmax found")
        for dom in failing:
            c = clocks[dom]
            print(f"[ulx3s] warning: {dom} misses {c['target_mhz']:g} MHz (routed {c['fmax_mhz']:.1f} MHz): the "
                  f"bitstream is not safe on a board; {advice}")
    return rep


def main(argv=None) -> int:
    from soc.firmware_build import FirmwareError, build_firmware
    from soc.trellis import TrellisError, check_workdir, use_yowasp_tools
    t0 = time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.accel_clk_freq is None:
        args.accel_clk_freq = ACCEL_CLK_FREQ[args.device]
    if not seed_given(sys.argv[1:] if argv is None else argv):
        args.nextpnr_seed = NEXTPNR_SEED[args.device]
    for opt in ("sys_clk_freq", "accel_clk_freq"):
        if not 1e6 <= getattr(args, opt) <= 400e6:
            parser.error(f"--{opt.replace('_', '-')} {getattr(args, opt):g}: must be 1e6..400e6 (Hz)")
    if args.toolchain != "trellis":
        parser.error(f"--toolchain {args.toolchain}: only trellis (the open flow) is supported here")
    model, cfg = accel_config_from_args(args, parser.error, default_part=DEVICES[args.device])
    problem = pll_problem(args.sys_clk_freq, args.accel_clk_freq)
    if problem:
        parser.error(f"no PLL setting for sys {args.sys_clk_freq:g} Hz + accel {args.accel_clk_freq:g} Hz "
                     f"from the 25 MHz oscillator ({problem})")
    builder_kw = dict(parser.builder_argdict)
    builder_kw["output_dir"] = builder_kw.get("output_dir") or str(Path("build") / "ulx3s" / args.device)
    builder_kw["csr_json"] = builder_kw.get("csr_json") or str(Path(builder_kw["output_dir"]) / "csr.json")
    bit = Path(builder_kw["output_dir"]) / "gateware" / "radiona_ulx3s.bit"     # LiteX: <platform name>.bit
    if args.load and shutil.which("openFPGALoader") is None:
        parser.exit(1, "error: --load needs openFPGALoader on PATH (Debian: apt-get install openfpgaloader)\n")
    if args.load and not args.build and not bit.exists():
        parser.exit(1, f"error: --load: {bit} missing; build it first (--build)\n")
    try:
        check_workdir(builder_kw["output_dir"])
        use_yowasp_tools()
    except TrellisError as e:
        parser.error(str(e))
    soc = ULX3SSNNSoC(cfg, accel_clk_freq=args.accel_clk_freq, device=args.device, revision=args.revision,
                      toolchain=args.toolchain, sys_clk_freq=args.sys_clk_freq,
                      sdram_module_cls=args.sdram_module, **parser.soc_argdict)
    name = soc.platform.name
    # nextpnr writes its log and its machine-readable report (utilisation, Fmax, critical paths) next to
    # the build script; LiteX's NextPNRWrapper passes the toolchain's pnr options through
    soc.platform.toolchain._pnr_opts += (f" --log {name}_nextpnr.log --report {name}_nextpnr_report.json"
                                         f" --router {args.nextpnr_router} --placer {args.nextpnr_placer}")
    # the accelerator's reset and write trees stay trees; its kept LUT6 nodes are not kept on ECP5
    soc.platform.toolchain._yosys_cmds += yosys_keep(name, nodes=False)
    builder = Builder(soc, **builder_kw)
    seconds = {}
    if args.build:
        t1 = time.perf_counter()
        try:
            builder.build(**dict(parser.toolchain_argdict, abc9=True))
        except OSError as e:
            parser.exit(1, f"error: {str(e).splitlines()[0]} (see {builder.gateware_dir})\n")
        seconds["gateware"] = round(time.perf_counter() - t1, 1)
        try:
            fw = build_firmware(builder.output_dir, Path(builder.output_dir) / "firmware", builder_kw["csr_json"])
        except FirmwareError as e:
            parser.exit(1, f"error: {e}\n")
        print(f"[ulx3s] firmware: {fw.bin} ({fw.size} bytes); data goes above 0x{fw.end:08x}")
        if builder_kw.get("compile_gateware", True):
            seconds["total"] = round(time.perf_counter() - t0, 1)
            write_report(Path(builder.output_dir) / "ulx3s_report.json", builder, soc, args, cfg, seconds)
    if args.load:
        r = subprocess.run(["openFPGALoader", "--board", "ulx3s", str(bit)])
        if r.returncode != 0:
            parser.exit(1, f"error: openFPGALoader --board ulx3s {bit} failed (exit {r.returncode}): is the board attached?\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
