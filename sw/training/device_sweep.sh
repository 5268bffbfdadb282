#!/bin/bash
# One device-tool call of a training sweep (sw/training/sweep.py) on a GPU machine without network.
#   bash sw/training/device_sweep.sh [PLAN] [DEADLINE_S] [EXTRA_RUN_ARGS]
# Needs, carried in the working tree (git-ignored): .whl/ (spikingjelly 2.0.0 + loguru wheels, installed
# only if spikingjelly is missing) and .gpu/data/mnist/*.gz (the MNIST idx files). Everything it writes
# lands in $OUT progressively: driver.log, gpu.log, summary.json, results.tar.gz, checkpoints.tar.gz.
set -u
PLAN=${1:-sw/training/plans/mnist-issue17.json}
DEADLINE=${2:-470}
EXTRA=${3:-}
OUT=${OUT:-/tmp/sweep-out}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/driver.log") 2>&1
T0=$(date +%s)
if ! python3 -c "import spikingjelly" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .whl/*.whl || exit 3
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export FIREFLY_DATA=${FIREFLY_DATA:-/tmp/ffdata} FIREFLY_OFFLINE=1 PYTHONUNBUFFERED=1
nvidia-smi -L 2>&1 | head -3
echo "cores: $(nproc)"
(nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 20 > "$OUT/gpu.log" 2>&1 &)
python3 -c "import torch, numpy, spikingjelly; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__)"
python3 -c "
from sw.datasets import load
for s in ('train', 'test'):
    print('mnist', s, load('mnist', s, root='.gpu/data').images.shape)" || exit 4
echo "setup $(( $(date +%s) - T0 )) s"
python3 sw/training/sweep.py "$PLAN" --work /tmp/sweep --out "$OUT" --deadline "$DEADLINE" --pack-every 30 \
  --extra "--data-root .gpu/data $EXTRA"
echo "sweep exit $?, total $(( $(date +%s) - T0 )) s"
