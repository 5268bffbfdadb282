"""The litex_sim SoC: VexRiscv, integrated main RAM, UART, timer uptime and the SNN accelerator.

    soc = SimSoC(accel_config)                 # Verilog via litex's Builder (soc.sim_build caches it)
    cfg = sim_config(serial="serial2tcp", serial_args={"port": p})   # the run's litex_sim clockers + UART

Two clocks, from two litex_sim clockers: `sys_clk` (CPU, buses, DMAs, CSRs) and `accel_clk` (the
accelerator's clock domain `accel`). They run at different rates, accel:sys = 1:2, so every run crosses
real clock domains. Why 1:2 (the Arty aims at the opposite, a faster accelerator clock): Verilator runs
every `always @(posedge accel_clk)` block of the (large) accelerator on each accel edge, busy or not, so
the CPU-bound phases (boot, artifact checks, the firmware's CPU reference) cost about C_soc + k * C_accel
per sys cycle with k accel edges per sys cycle. At 2:1 (k = 2) the demo's firmware booted in 103-163 s
and its one-frame CPU reference did not finish in 30 min on this loaded 2-core machine; at 1:2 (k = 0.5)
the boot took 25.5 s.
The clock edges stay on litex_sim's coarse timebase (500 ns, as before; 3:2 needs a finer one), the DMAs
can never starve the core, so cycles/frame measures the accelerator as rtlsim does, and the frames
crossing fills and back-pressures its DMA while the results crossing runs empty: both FIFO edges are
exercised. tests/soc/test_accel_cdc.py covers the faster-accel case (5:3) in a Migen simulation. The
simulated rates are not real ones: FPS figures are quoted at soc.ACCEL_CLK_FREQ.
"""
from __future__ import annotations

from migen import ClockDomain, Signal
from migen.genlib.cdc import MultiReg

from litex.build.generic_platform import Pins, Subsignal
from litex.build.sim import SimPlatform
from litex.build.sim.config import SimConfig
from litex.gen import LiteXModule
from litex.soc.integration.soc_core import SoCCore

from soc.peripheral import add_snn_accel

SYS_CLK_FREQ = int(1e6)            # litex_sim's nominal sys clock (CONFIG_CLOCK_FREQUENCY of the sim)
SIM_ACCEL_CLK_FREQ = SYS_CLK_FREQ // 2   # the simulated accel clock: accel:sys = 1:2 (see the docstring)
MAIN_RAM_SIZE = 0x0040_0000        # 4 MiB: firmware + scratch arena + model + frames + results

IO = [
    ("sys_clk", 0, Pins(1)),
    ("accel_clk", 0, Pins(1)),
    ("serial", 0,
        Subsignal("source_valid", Pins(1)), Subsignal("source_ready", Pins(1)), Subsignal("source_data", Pins(8)),
        Subsignal("sink_valid", Pins(1)), Subsignal("sink_ready", Pins(1)), Subsignal("sink_data", Pins(8))),
]


def clocking() -> str:
    """The simulated clocks, for the build cache key and reports."""
    return f"sys_clk={SYS_CLK_FREQ};accel_clk={SIM_ACCEL_CLK_FREQ}"


def sim_config(serial: str = "serial2console", serial_args=None) -> SimConfig:
    """litex_sim's run configuration: both clockers and the UART module."""
    cfg = SimConfig()
    cfg.add_clocker("sys_clk", freq_hz=SYS_CLK_FREQ)
    cfg.add_clocker("accel_clk", freq_hz=SIM_ACCEL_CLK_FREQ)
    cfg.add_module(serial, "serial", args=serial_args)
    return cfg


class SimPlatformIO(SimPlatform):
    """litex_sim platform with the pins this SoC uses: two clocks and the UART."""
    def __init__(self):
        SimPlatform.__init__(self, "SIM", [tuple(io) for io in IO])


class SimCRG(LiteXModule):
    """Clock domains `sys` (sys_clk, power-on reset) and `accel` (accel_clk, the sys reset synchronized
    into it with a MultiReg)."""
    def __init__(self, platform):
        self.cd_sys = ClockDomain("sys")
        self.cd_por = ClockDomain("por", reset_less=True)
        self.cd_accel = ClockDomain("accel")

        # # #

        clk = platform.request("sys_clk")
        por_rst = Signal(reset=1)
        self.sync.por += por_rst.eq(0)
        self.comb += [self.cd_sys.clk.eq(clk), self.cd_por.clk.eq(clk), self.cd_sys.rst.eq(por_rst),
                      self.cd_accel.clk.eq(platform.request("accel_clk"))]
        self.specials += MultiReg(self.cd_sys.rst, self.cd_accel.rst, "accel", reset=1)


class SimSoC(SoCCore):
    """The simulation SoC. `accel_config` is the accelerator's build-time config (None: no accelerator)."""

    def __init__(self, accel_config=None, main_ram_init=(0,), main_ram_size=MAIN_RAM_SIZE, trace=False):
        platform = SimPlatformIO()
        self.crg = SimCRG(platform)
        SoCCore.__init__(self, platform, clk_freq=SYS_CLK_FREQ,
                         cpu_type="vexriscv", cpu_variant="standard",
                         integrated_rom_size=0x10000,
                         integrated_sram_size=0x2000,
                         integrated_main_ram_size=main_ram_size,
                         integrated_main_ram_init=list(main_ram_init),
                         uart_name="sim", timer_uptime=True,
                         ident="FireFly-S simulation SoC", ident_version=False)
        # The BIOS skips its serial boot after a short timeout and jumps to the firmware in main RAM.
        self.add_constant("ROM_BOOT_ADDRESS", self.mem_map["main_ram"])
        if accel_config is not None:
            add_snn_accel(self, accel_config, name="snn", accel_clk_freq=SIM_ACCEL_CLK_FREQ, fault_injection=True)
            # --trace dumps only the window in which the accelerator is active (load, batches): a whole
            # traced boot + firmware run is gigabytes of FST before the first frame
            self.comb += platform.trace.eq(self.snn.active)
        else:
            self.comb += platform.trace.eq(1)
