#!/bin/bash
# session 40: seed 1 of --lr-joint 0.005 starts when the seed-0 run ends
cd /work/main
while pgrep -f "out build/s40/lr05\$" >/dev/null; do sleep 15; done
/usr/bin/time -v .venv/bin/python sw/training/run.py --device cpu --threads 1 --no-progress --val-split 5000 --seed 1 --lr-joint 0.005 --out build/s40/lr05s1 > build/s40/lr05s1.out 2>&1
