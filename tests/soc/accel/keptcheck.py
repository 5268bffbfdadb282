"""Which flip-flops survive yosys' merging of equal cells: the check behind the kept copies'
tests (soc.accel.verilog.kept_copy, yosys_keep)."""
import shutil
import subprocess
from pathlib import Path

import pytest

from soc.accel.verilog import yosys_keep

needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")


def kept_dffs(text: str, keep: bool, d: Path, wires: str) -> set:
    """Names of the flip-flops left driving the wires `wires` (a yosys selection of wires) after
    `opt -share_all` (merging to a fixed point), with or without yosys_keep() first."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "accel.v").write_text(text)
    script = ["read_verilog accel.v", *(yosys_keep("accel") if keep else ["hierarchy -top accel", "proc"]),
              "flatten", "opt -share_all",
              f"tee -q -o dffs.txt select -list {wires} %ci1:+[Q] t:$*dff* %i"]
    (d / "kept.ys").write_text("\n".join(script) + "\n")        # a script file: yosys_keep() has a here-document
    subprocess.run(["yosys", "-q", "-s", "kept.ys"], cwd=d, check=True, capture_output=True, timeout=600)
    return {x for x in (d / "dffs.txt").read_text().split() if x.startswith("accel/")}
