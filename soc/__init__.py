"""FireFly-S SoC integration: the accelerator as a LiteX peripheral, targets, firmware build."""

NOMINAL_CLK_FREQ = int(100e6)   # sys_clk of the Arty target (soc/targets/arty.py): FPS figures use it
