#!/bin/bash
# issue 17, session 39: one joint-phase lever continuing the float checkpoint build/s38/f0 (seed 0, val split),
# paired with build/s38/c0 (the defaults from the same checkpoint, this CPU, 1 thread)
name=$1; shift
cd /work/main
mkdir -p build/s39/$name && cp build/s38/f0/checkpoint.pt build/s39/$name/
/usr/bin/time -v .venv/bin/python sw/training/run.py --device cpu --threads 1 --no-progress --val-split 5000 --seed 0 "$@" --out build/s39/$name > build/s39/$name.out 2>&1
