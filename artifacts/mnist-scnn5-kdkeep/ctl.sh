#!/bin/bash
# control for kd0: the defaults continuing the same float checkpoint build/s38/f0
cd /work/main
while pgrep -f "stop-after-float --out build/s38/f0" >/dev/null; do sleep 20; done
mkdir -p build/s38/c0 && cp build/s38/f0/checkpoint.pt build/s38/c0/
/usr/bin/time -v .venv/bin/python sw/training/run.py --device cpu --threads 1 --no-progress --val-split 5000 --seed 0 --out build/s38/c0 > build/s38/c0.out 2>&1
