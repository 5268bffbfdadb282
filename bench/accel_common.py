"""Shared setup of the benchmarks: the MNIST SCNN5 model and its balanced hardware, and the one-line
handling of bad input (issue 13): every problem with the options, the model or the data is one error
line and exit 1 (2 for option errors), checked before any simulation or synthesis."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sw.artifact import ArtifactError, Model  # noqa: E402
from sw.cli import CLIError, OneLineParser, output_problem  # noqa: E402
from sw.datasets import DatasetError, load  # noqa: E402

DEFAULT_MODEL = "artifacts/mnist-scnn5/model.ffs"
PAPER_AREA_TIME = 33_144 * 30_911      # FireFly-S SCNN5: cycles/frame x LUTs = 1.02e9


def parser(script: str, doc: str) -> OneLineParser:
    return OneLineParser(prog=f"python bench/{os.path.basename(script)}", description=doc.split("\n\n")[0])


def check_args(ap, args, positive=(), json=None):
    """Option errors (exit 2): each name in `positive` must be >= 1, `json` must be writable."""
    for name in positive:
        v = getattr(args, name)
        if v is not None and v < 1:
            ap.error(f"--{name.replace('_', '-')} {v}: must be >= 1")
    if output_problem(json):
        ap.error(f"--json {output_problem(json)}")


def fail(ap, message):
    ap.exit(1, f"error: {message}\n")


def mnist_model(path=DEFAULT_MODEL):
    """The trained artifact, or (clearly labelled) an untrained random SCNN5 calibrated on MNIST when the
    default model is missing. A given --model that is missing, not an artifact or not an MNIST model is a
    CLIError."""
    try:
        if path == DEFAULT_MODEL and not os.path.exists(path):
            from sw.random_model import make
            print(f"{path} missing: using an UNTRAINED random SCNN5 (93.82% sparse, calibrated on MNIST)")
            return make("scnn5", 0.9382, calib=load("mnist", "train").images[:64]), "random-scnn5"
        model = Model.load(path)
        mnist_frames(model, 1)
    except (ArtifactError, DatasetError) as e:
        raise CLIError(str(e)) from None
    return model, path


def mnist_frames(model, n):
    """The first n MNIST test frames, if the model takes them (CLIError otherwise)."""
    from sw.golden import check_frames
    try:
        images = load("mnist", "test").images[:n]
        check_frames(model, images)
    except DatasetError as e:
        raise CLIError(str(e)) from None
    except ValueError as e:
        raise CLIError(f"mnist: {e}") from None
    return images


def balanced_config(model, parallelism=None, part=None):
    """(AccelConfig, Balanced or None); a bad --parallelism is a CLIError."""
    from soc.accel.balance import SIM_PART, Budget, balance
    from soc.accel.config import AccelConfig, ConfigError
    from soc.accel.rtlsim import parse_parallelism
    if parallelism:
        try:
            return AccelConfig.from_model(model, parse_parallelism(parallelism)), None
        except (ConfigError, ValueError) as e:
            raise CLIError(str(e)) from None
    b = balance(model, Budget.for_part(part or SIM_PART), dataset="mnist")
    return AccelConfig.from_model(model, b.parallelism), b
