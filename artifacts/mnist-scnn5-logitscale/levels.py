"""Session 41: how many of each model's non-zero weights are +-1, per layer, and the readout's non-zeros.
python build/s41/levels.py MODEL.ffs ..."""
import sys
import numpy as np
from sw.artifact import Model

for p in sys.argv[1:]:
    m = Model.load(p)
    parts = []
    for l in m.layers:
        w = np.asarray(l.weights).ravel()
        nz = np.abs(w[w != 0])
        parts.append(f"{(nz == 1).mean() * 100:.0f}% of {nz.size}")
    print(f"{p}: share of non-zeros at +-1 per layer: {', '.join(parts)}; readout max |w| {int(nz.max())}")
