"""Compile the firmware's plain-C parts with the host gcc once per session (tests/firmware/ffs_host.c)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from soc.firmware_build import FIRMWARE_DIR, write_ffs_defs

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def ffs_host(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("host gcc not available")
    out = tmp_path_factory.mktemp("ffs_host")
    write_ffs_defs(out / "ffs_defs.h")
    exe = out / "ffs_host"
    srcs = [FIRMWARE_DIR / f for f in ("ffs.c", "ffs_shape.c", "ref.c", "console.c", "loadimg.c")] + [HERE / "ffs_host.c"]
    subprocess.run(["gcc", "-O2", "-std=gnu99", "-Wall", "-Wextra", "-Werror", f"-I{out}", f"-I{FIRMWARE_DIR}",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    *map(str, srcs), "-o", str(exe)], check=True)

    def run(*args, timeout=120):
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
        r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)
        assert r.returncode in (0, 1), f"ffs_host crashed ({r.returncode}): {r.stderr[-2000:]}"
        return r.stdout
    run.exe = exe
    return run
