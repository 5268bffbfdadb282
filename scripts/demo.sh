#!/usr/bin/env bash
# The demo: the longest part of the chain that exists, on the committed default model.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-artifacts/mnist-scnn5/model.ffs}"
PY=.venv/bin/python
if [ ! -f "$MODEL" ]; then
  echo "[demo] $MODEL not found; using an UNTRAINED random SCNN5 (accuracy is meaningless)"
  MODEL=build/random-scnn5.ffs
  mkdir -p build
  [ -f "$MODEL" ] || $PY -m sw.random_model --model scnn5 --out "$MODEL"
fi
$PY -m sw.artifact "$MODEL"
mkdir -p build
$PY -m sw.golden --model "$MODEL" --dataset mnist --split test --json build/demo-golden.json
