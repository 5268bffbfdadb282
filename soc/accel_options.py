"""The accelerator's command-line options (one argument group) and its config from a model artifact.

    add_accel_args(parser)                  # argparse or LiteXArgumentParser
    model, cfg = accel_config_from_args(args, parser.error)
"""
from __future__ import annotations

from soc.accel.balance import PARTS


def add_accel_args(parser, model_required: bool = True):
    g = parser.add_argument_group(title="SNN accelerator")
    g.add_argument("--model", required=model_required, help="model artifact (.ffs): its topology and widths "
                   "size the generated accelerator")
    g.add_argument("--accel-parallelism", default=None, metavar="PCOxPCI,...",
                   help="per-layer parallelism, e.g. 4x9,8x36,8x48,16x32,16x32,10x32 (default: soc.accel.balance)")
    g.add_argument("--accel-fifo-depth", type=int, default=None, help="pixels buffered between engines")
    g.add_argument("--accel-part", default=None, choices=sorted(PARTS),
                   help="size the accelerator (soc.accel.balance) for this FPGA minus the SoC "
                        "(default: the target's own part; the sim models the Arty A7-100T)")
    return g


def parse_parallelism(text: str):
    out = []
    for tok in text.split(","):
        a, sep, b = tok.strip().lower().partition("x")
        if not sep or not a.isdigit() or not b.isdigit():
            raise ValueError(f"--accel-parallelism token {tok!r}: expected PCOxPCI, e.g. 8x36")
        out.append((int(a), int(b)))
    return out


def accel_config(model, parallelism=None, fifo_depth=None, part=None, dataset=None):
    from soc.accel.balance import Budget, configure
    kw = {} if fifo_depth is None else {"fifo_depth": fifo_depth}
    budget = Budget.for_part(part) if part else None
    return configure(model, parallelism, budget=budget, dataset=dataset, **kw)


def accel_config_from_args(args, error, default_part=None, dataset=None):
    """(Model, AccelConfig); CLI mistakes go to error(msg) (parser.error)."""
    from soc.accel.config import ConfigError
    from sw.artifact import ArtifactError, Model
    try:
        model = Model.load(args.model)
    except ArtifactError as e:
        error(str(e))
    try:
        par = parse_parallelism(args.accel_parallelism) if args.accel_parallelism else None
        part = getattr(args, "accel_part", None) or default_part
        return model, accel_config(model, par, args.accel_fifo_depth, part, dataset)
    except (ValueError, ConfigError) as e:
        error(str(e))
