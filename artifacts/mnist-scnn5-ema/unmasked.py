"""Each weight average of an --ema run as torch kept it, without the mask that keeps pruned weights pruned:
integer non-zeros (w_int != 0, before channel removal) and accuracy on the run's validation split.

    python artifacts/mnist-scnn5-ema/unmasked.py build/s47/ema0     # a run folder with its checkpoint.pt
"""
import sys

import torch

sys.path.insert(0, '.')
from sw.training import options
from sw.training.config import load_data
from sw.training.train import Trainer, evaluate
out = sys.argv[1]
st = torch.load(f"{out}/checkpoint.pt", map_location="cpu", weights_only=False)
_, cfg = options.parse_args(["--device", "cpu", "--threads", "1", "--val-split", "5000", "--seed", str(st["config"]["seed"]),
                                "--ema", st["config"]["ema"], "--out", "/tmp/diagx", "--no-progress"])
torch.set_num_threads(1)
data = load_data(cfg)
t = Trainer(cfg, data, "/tmp/diagx", progress=False, log=lambda *a: None)
t.load(st)
adopted = t.net
def nnz(net):
    return sum(int((l.integer_params()[0] != 0).sum()) for l in net.layers)
print("exported (the first average, masked):", nnz(adopted), evaluate(adopted, data.x_test, data.y_test)[0])
for i, d in enumerate(t.decays):
    m = t.averages.models[i].module
    m.integer = True
    print(d, "unmasked:", nnz(m), evaluate(m, data.x_test, data.y_test)[0], flush=True)
