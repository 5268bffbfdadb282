#!/bin/bash
# wait for the nb runs to end, then start the --free-logit-scale pair
cd /work/main; source .venv/bin/activate
while pgrep -f "out build/s41/nb" >/dev/null; do sleep 10; done
for s in 0 1; do mkdir -p build/s41/fl$s && cp build/s40/f$s/checkpoint.pt build/s41/fl$s/; done
for s in 0 1; do
  nohup /usr/bin/time -v python sw/training/run.py --device cpu --threads 1 --no-progress --val-split 5000 --seed $s --free-logit-scale --out build/s41/fl$s > build/s41/fl$s.out 2>&1 &
done
wait
