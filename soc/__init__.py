"""FireFly-S SoC integration: the accelerator as a LiteX peripheral, targets, firmware build.

NOMINAL_CLK_FREQ: the Arty target's default sys clock (CPU, buses, DMAs), Hz.
ACCEL_CLK_FREQ: the Arty target's default accelerator clock (its own PLL output, clock domain `accel`),
    Hz; FPS figures are quoted at it, also from the sim (whose simulated clock rates are not real).
"""

NOMINAL_CLK_FREQ = int(100e6)   # sys_clk of the Arty target (soc/targets/arty.py --sys-clk-freq)
# Default of soc/targets/arty.py --accel-clk-freq. 100 MHz for now: a placeholder equal to sys, to be
# set from the timing report of the accelerator's own clock domain.
ACCEL_CLK_FREQ = int(100e6)
