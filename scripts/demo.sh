#!/usr/bin/env bash
# The demo: the whole chain on the committed default model. Builds the litex_sim SoC (VexRiscv +
# accelerator, cached), boots the firmware, runs 100 real MNIST test frames through firmware and
# accelerator, and prints accuracy, agreement with the golden model, cycles/frame (accelerator clock
# cycles) and FPS. FPS is quoted at soc.ACCEL_CLK_FREQ, the Arty PLL's default accelerator clock: the
# sim's own clocks (sys 1 MHz, accel 500 kHz) are not real rates.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-artifacts/mnist-scnn5/model.ffs}"
IMAGES="${IMAGES:-100}"
PY=.venv/bin/python
mkdir -p build
$PY -m sw.artifact "$MODEL"
$PY soc/targets/sim.py --model "$MODEL" --images "$IMAGES" --json build/demo-sim.json
