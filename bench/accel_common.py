"""Shared setup of the accelerator benchmarks: the MNIST SCNN5 model and its balanced hardware."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sw.artifact import Model  # noqa: E402
from sw.datasets import load  # noqa: E402

DEFAULT_MODEL = "artifacts/mnist-scnn5/model.ffs"
PAPER_AREA_TIME = 33_144 * 30_911      # FireFly-S SCNN5: cycles/frame x LUTs = 1.02e9


def mnist_model(path=DEFAULT_MODEL):
    """The trained artifact, or (clearly labelled) an untrained random SCNN5 calibrated on MNIST."""
    if os.path.exists(path):
        return Model.load(path), path
    from sw.random_model import make
    print(f"{path} missing: using an UNTRAINED random SCNN5 (93.82% sparse, calibrated on MNIST)")
    return make("scnn5", 0.9382, calib=load("mnist", "train").images[:64]), "random-scnn5"


def balanced_config(model, parallelism=None, part=None):
    from soc.accel.balance import SIM_PART, Budget, balance
    from soc.accel.config import AccelConfig
    from soc.accel.rtlsim import parse_parallelism
    if parallelism:
        return AccelConfig.from_model(model, parse_parallelism(parallelism)), None
    b = balance(model, Budget.for_part(part or SIM_PART), dataset="mnist")
    return AccelConfig.from_model(model, b.parallelism), b
