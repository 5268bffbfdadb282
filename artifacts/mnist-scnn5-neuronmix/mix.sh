#!/bin/bash
# issue 17, session 39: per-layer neuron mixes, seed 0, validation split, from scratch (the neuron changes
# the float phase); paired by seed with build/s38/c0 (LIF everywhere, this CPU's float phase f0)
name=$1; after=$2; spec=$3
cd /work/main
while pgrep -f "out build/s39/$after\$" >/dev/null; do sleep 20; done
/usr/bin/time -v .venv/bin/python sw/training/run.py --device cpu --threads 1 --no-progress --val-split 5000 --seed 0 --neuron $spec --out build/s39/$name > build/s39/$name.out 2>&1
