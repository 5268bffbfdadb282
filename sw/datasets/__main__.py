"""`python -m sw.datasets fetch {mnist,fashion-mnist,cifar10,dvs-gesture,events,all} [--root DIR]`:
populate the cache and print what was obtained from where."""
from __future__ import annotations

import logging
import sys
import time
import warnings

from ..cli import OneLineParser
from . import cifar10, load
from .common import DatasetError, cache_dir
from .events import sample_recording

FETCHABLE = ("mnist", "fashion-mnist", "cifar10", "dvs-gesture", "events")


def _fetch(name: str, root) -> list[str]:
    if name == "events":
        return [f"events: real EVT2 recording {sample_recording()}"]
    out = []
    for split in ("train", "test"):
        t = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = load(name, split, root)
        except DatasetError as e:
            if name == "cifar10" and split == "train":
                out.append(f"{name} train: unavailable (full set needed; offline only the test subset)")
                continue
            raise
        note = " [20-image offline subset]" if name == "cifar10" and len(ds) == cifar10.SUBSET_SIZE else ""
        out.append(f"{name} {split}: {len(ds)} samples {tuple(ds.images.shape[1:])}{note} "
                   f"from {ds.source} ({time.perf_counter() - t:.1f} s)")
    return out


def main(argv=None) -> int:
    ap = OneLineParser(prog="python -m sw.datasets")
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="populate the data cache")
    f.add_argument("name", choices=FETCHABLE + ("all",))
    f.add_argument("--root", default=None, help="directory to look in before the cache/downloads")
    f.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    names = ("mnist", "fashion-mnist", "cifar10", "events") if args.name == "all" else (args.name,)
    print(f"cache: {cache_dir()}")
    rc = 0
    for name in names:
        try:
            for line in _fetch(name, args.root):
                print(line)
        except DatasetError as e:
            print(f"{name}: FAILED: {e}", file=sys.stderr)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
