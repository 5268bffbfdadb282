#!/bin/bash
# issue 17, session 38: --keep-channels 3 --distill 0.5 on the validation split, paired with kc3sS / a4 / ctl1
s=$1
cd /work/main
.venv/bin/python sw/training/run.py --device cpu --threads 1 --no-progress --val-split 5000 --seed $s --stop-after-float --out build/s38/f$s > build/s38/f$s.log 2>&1
mkdir -p build/s38/kd$s && cp build/s38/f$s/checkpoint.pt build/s38/kd$s/
/usr/bin/time -v .venv/bin/python sw/training/run.py --device cpu --threads 1 --no-progress --val-split 5000 --seed $s --keep-channels 3 --distill 0.5 --out build/s38/kd$s > build/s38/kd$s.out 2>&1
