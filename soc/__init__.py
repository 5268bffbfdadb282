"""FireFly-S SoC integration: the accelerator as a LiteX peripheral, targets, firmware build.

NOMINAL_CLK_FREQ: the Arty target's default sys clock (CPU, buses, DMAs), Hz.
ACCEL_CLK_FREQ: the Arty target's default accelerator clock (its own PLL output, clock domain `accel`),
    Hz; FPS figures are quoted at it, also from the sim (whose simulated clock rates are not real).
"""

NOMINAL_CLK_FREQ = int(100e6)   # sys_clk of the Arty target (soc/targets/arty.py --sys-clk-freq)
# Default of soc/targets/arty.py --accel-clk-freq, from the timing report (docs/accelerator.md, Timing):
# both default builds have a logic-only critical path <= 2.4 ns (yosys cell delays, no wires). Routing on
# Artix-7 roughly doubles logic delay, and flip-flop clock-to-q + setup add ~0.7 ns: 2 x 2.4 + 0.7 =
# 5.5 ns (182 MHz). 150 MHz (6.67 ns; the Arty PLL makes it as 1200 MHz VCO / 8) leaves a further
# ~1.2 ns (18%) for clock uncertainty and a fuller device. No Vivado here: a routed result is still owed.
ACCEL_CLK_FREQ = int(150e6)
