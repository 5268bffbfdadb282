#!/bin/bash
# issue 17, session 39: seed S from scratch on the validation split, with the given --neuron (the LIF control
# is the defaults with the same seed, its own float phase on the same machine)
name=$1; after=$2; seed=$3; spec=$4
cd /work/main
while pgrep -f "out build/s39/$after\$" >/dev/null; do sleep 15; done
/usr/bin/time -v .venv/bin/python sw/training/run.py --device cpu --threads 1 --no-progress --val-split 5000 --seed $seed --neuron $spec --out build/s39/$name > build/s39/$name.out 2>&1
