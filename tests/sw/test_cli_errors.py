"""Every entry point answers bad input with one error line on stderr and a non-zero exit: no traceback,
no usage block, and nothing written (issue 13). Each case runs the real command as a subprocess.

Not covered here: sw/training (tests/sw/training/test_cli_errors.py) and the ULX3S target (tests/soc/targets/test_ulx3s.py).
The rtlsim cases must fail before the Verilator build (nothing printed about building).
"""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
M = "artifacts/mnist-scnn5/model.ffs"
PY = [sys.executable]
GOLDEN = PY + ["-m", "sw.golden", "--no-progress"]
HOST_RUN = PY + ["-m", "sw.host", "--port", "socket://127.0.0.1:9", "run"]
SIM = PY + ["soc/targets/sim.py"]
ARTY = PY + ["soc/targets/arty.py"]
RTL = PY + ["-m", "soc.accel.rtlsim", "--no-progress", "--model", M]
SYNTH = PY + ["-m", "soc.accel.synth"]
BALANCE = PY + ["-m", "soc.accel.balance"]
RTL_MNIST = RTL + ["--dataset", "mnist"]
BENCH = "bench/"

# (case, argv, expected exit code, a fragment of the error line). "{tmp}" is a fresh folder.
CASES = [
    ("artifact: missing file", PY + ["-m", "sw.artifact", "{tmp}/none.ffs"], 1, "cannot read"),
    ("artifact: a directory", PY + ["-m", "sw.artifact", "{tmp}"], 1, "cannot read"),
    ("artifact: not an artifact", PY + ["-m", "sw.artifact", "README.md"], 1, "bad magic"),
    ("artifact: empty file", PY + ["-m", "sw.artifact", "{tmp}/empty.ffs"], 1, "truncated"),
    ("artifact: header flipped", PY + ["-m", "sw.artifact", "{tmp}/in_bits4.ffs"], 1, "CRC mismatch"),
    ("artifact: version 1", PY + ["-m", "sw.artifact", "{tmp}/v1.ffs"], 1, "--upgrade NEW.ffs"),
    ("artifact: upgrade a v2 file", PY + ["-m", "sw.artifact", M, "--upgrade", "{tmp}/o.ffs"], 1,
     "reads version 1 files only"),
    ("artifact: upgrade over a file", PY + ["-m", "sw.artifact", "{tmp}/v1.ffs", "--upgrade", "{tmp}/empty.ffs"],
     1, "not overwritten"),
    ("artifact: no argument", PY + ["-m", "sw.artifact"], 2, "the following arguments are required"),
    ("golden: missing model", GOLDEN + ["--model", "{tmp}/none.ffs", "--dataset", "mnist"], 1, "cannot read"),
    ("golden: not an artifact", GOLDEN + ["--model", "README.md", "--dataset", "mnist"], 1, "bad magic"),
    ("golden: unknown data set", GOLDEN + ["--model", M, "--dataset", "imagenet"], 2, "invalid choice"),
    ("golden: bad --limit", GOLDEN + ["--model", M, "--dataset", "mnist", "--limit", "0"], 2, "--limit >= 1"),
    ("golden: --limit not a number", GOLDEN + ["--model", M, "--dataset", "mnist", "--limit", "x"], 2,
     "invalid int value"),
    ("golden: --offset past the end", GOLDEN + ["--model", M, "--dataset", "mnist", "--offset", "10000"], 1,
     "split has 10000 frames"),
    ("golden: --json in a missing folder", GOLDEN + ["--model", M, "--dataset", "mnist", "--json", "{tmp}/no/x.json"],
     2, "does not exist"),
    ("golden: --json unwritable", GOLDEN + ["--model", M, "--dataset", "mnist", "--json", "/proc/x.json"], 2,
     "cannot write"),
    ("golden: --json a directory", GOLDEN + ["--model", M, "--dataset", "mnist", "--json", "{tmp}"], 2,
     "is a directory"),
    ("golden: shape does not fit", GOLDEN + ["--model", M, "--dataset", "cifar10"], 1, "the model expects"),
    ("golden: dvs-gesture absent", GOLDEN + ["--model", M, "--dataset", "dvs-gesture"], 1, "DVS128 Gesture not found"),
    ("datasets: unknown name", PY + ["-m", "sw.datasets", "fetch", "imagenet"], 2, "invalid choice"),
    ("datasets: no command", PY + ["-m", "sw.datasets"], 2, "required"),
    ("host: no port", PY + ["-m", "sw.host", "console"], 2, "--port"),
    ("host: bad --limit", HOST_RUN + ["--build-dir", "{tmp}", "--model", M, "--limit", "0"], 2, "--limit 0"),
    ("host: bad --timeout", PY + ["-m", "sw.host", "--port", "x", "--timeout", "-1", "console"], 2, "--timeout"),
    ("host: not an artifact", HOST_RUN + ["--build-dir", "{tmp}", "--model", "README.md"], 1, "bad magic"),
    ("host: shape does not fit", HOST_RUN + ["--build-dir", "{tmp}", "--model", M, "--dataset", "cifar10"], 1,
     "the model expects"),
    ("host: not a SoC build", HOST_RUN + ["--build-dir", "{tmp}", "--model", M], 1, "must be a SoC build"),
    ("host: --json in a missing folder", HOST_RUN + ["--build-dir", "{tmp}", "--model", M, "--json", "{tmp}/no/x"], 1,
     "does not exist"),
    ("sim: not an artifact", SIM + ["--model", "README.md"], 1, "bad magic"),
    ("sim: bad --images", SIM + ["--model", M, "--images", "0"], 2, "--images 0"),
    ("sim: bad --timeout", SIM + ["--model", M, "--images", "1", "--timeout", "0"], 2, "--timeout > 0"),
    ("sim: --json unwritable", SIM + ["--model", M, "--images", "1", "--json", "/proc/x.json"], 2, "cannot write"),
    ("sim: unknown data set", SIM + ["--model", M, "--images", "1", "--dataset", "imagenet"], 1,
     "unknown data set"),
    ("sim: shape does not fit", SIM + ["--model", M, "--images", "1", "--dataset", "cifar10"], 1,
     "the model expects"),
    ("sim: dvs-gesture absent", SIM + ["--model", M, "--images", "1", "--dataset", "dvs-gesture"], 1,
     "DVS128 Gesture not found"),
    ("sim: --offset past the end", SIM + ["--model", M, "--images", "1", "--offset", "10000"], 1,
     "split has 10000 frames"),
    ("sim: impossible parallelism", SIM + ["--model", M, "--accel-parallelism", "99x99"], 1, "parallelism"),
    ("arty: unknown variant", ARTY + ["--model", M, "--variant", "foo"], 2, "invalid choice"),
    ("arty: not an artifact", ARTY + ["--model", "README.md"], 2, "bad magic"),
    ("arty: impossible parallelism", ARTY + ["--model", M, "--accel-parallelism", "1x1,x"], 2, "parallelism"),
    ("arty: bad clock", ARTY + ["--model", M, "--accel-clk-freq", "0"], 2, "--accel-clk-freq 0"),
    ("rtlsim: not an artifact", PY + ["-m", "soc.accel.rtlsim", "--model", "README.md", "--dataset", "mnist"], 1,
     "bad magic"),
    ("rtlsim: missing model", PY + ["-m", "soc.accel.rtlsim", "--model", "{tmp}/none.ffs", "--dataset", "mnist"], 1,
     "cannot read"),
    ("rtlsim: shape does not fit", RTL + ["--dataset", "cifar10"], 1, "the model expects [N, 1, 28, 28]"),
    ("rtlsim: dvs-gesture absent", RTL + ["--dataset", "dvs-gesture"], 1, "DVS128 Gesture not found"),
    ("rtlsim: unknown data set", RTL + ["--dataset", "imagenet"], 2, "invalid choice"),
    ("rtlsim: --offset past the end", RTL_MNIST + ["--offset", "10000"], 1, "split has 10000 frames"),
    ("rtlsim: --offset negative", RTL_MNIST + ["--offset", "-1"], 2, "--offset -1: must be >= 0"),
    ("rtlsim: --limit 0", RTL_MNIST + ["--limit", "0"], 2, "--limit 0: must be >= 1"),
    ("rtlsim: --jobs 0", RTL_MNIST + ["--jobs", "0"], 2, "--jobs 0: must be in 1.."),
    ("rtlsim: --jobs 100000", RTL_MNIST + ["--jobs", "100000"], 2, "--jobs 100000: must be in 1.."),
    ("rtlsim: --stall 100", RTL_MNIST + ["--stall", "100"], 2, "--stall 100: must be in 0..99"),
    ("rtlsim: parallelism syntax", RTL_MNIST + ["--parallelism", "1x1,x"], 2, "expected PCOxPCI"),
    ("rtlsim: parallelism zero", RTL_MNIST + ["--parallelism", "0x1,1x1,1x1,1x1,1x1,1x1"], 2, "expected PCOxPCI"),
    ("rtlsim: impossible parallelism", RTL_MNIST + ["--parallelism", "99x99,1x2,1x8,1x16,1x24,1x24"], 1, "PCo=99"),
    ("rtlsim: parallelism per layer", RTL_MNIST + ["--parallelism", "1x2"], 1, "1 entries for 6 layers"),
    ("rtlsim: --json unwritable", RTL_MNIST + ["--json", "/proc/x.json"], 2, "cannot write"),
    ("rtlsim: --json in a missing folder", RTL_MNIST + ["--json", "{tmp}/no/x.json"], 2, "does not exist"),
    ("rtlsim: --json a directory", RTL_MNIST + ["--json", "{tmp}"], 2, "is a directory"),
    ("bench golden: --repeat 0", PY + [BENCH + "golden_mnist.py", "--repeat", "0"], 2, "--repeat 0: must be >= 1"),
    ("bench golden: not an artifact", PY + [BENCH + "golden_mnist.py", "--model", "README.md"], 1, "bad magic"),
    ("bench golden: missing model", PY + [BENCH + "golden_mnist.py", "--model", "{tmp}/none.ffs"], 1, "cannot read"),
    ("bench golden: not an MNIST model", PY + [BENCH + "golden_mnist.py", "--model", "{tmp}/cifar.ffs"], 1,
     "the model expects [N, 3, 32, 32]"),
    ("bench sparsity: --frames 0", PY + [BENCH + "accel_sparsity.py", "--frames", "0"], 2, "--frames 0: must be >= 1"),
    ("bench sparsity: not an MNIST model", PY + [BENCH + "accel_sparsity.py", "--model", "{tmp}/cifar.ffs"], 1,
     "the model expects [N, 3, 32, 32]"),
    ("bench sparsity: missing model", PY + [BENCH + "accel_sparsity.py", "--model", "{tmp}/none.ffs"], 1,
     "cannot read"),
    ("bench area-time: --frames 0", PY + [BENCH + "accel_area_time.py", "--frames", "0"], 2, "--frames 0"),
    ("bench area-time: --json unwritable", PY + [BENCH + "accel_area_time.py", "--json", "/proc/x.json"], 2,
     "cannot write"),
    ("bench area-time: parallelism syntax", PY + [BENCH + "accel_area_time.py", "--parallelism", "1x1,x"], 1,
     "expected PCOxPCI"),
    ("bench area-time: parallelism per layer", PY + [BENCH + "accel_area_time.py", "--parallelism", "1x2"], 1,
     "1 entries for 6 layers"),
    ("bench area-time: not an artifact", PY + [BENCH + "accel_area_time.py", "--model", "README.md"], 1, "bad magic"),
    ("bench area-time: unknown part", PY + [BENCH + "accel_area_time.py", "--part", "x"], 2, "invalid choice"),
    ("bench mnist10k: --jobs 0", PY + [BENCH + "accel_mnist10k.py", "--jobs", "0"], 2, "--jobs 0: must be >= 1"),
    ("bench mnist10k: --limit 0", PY + [BENCH + "accel_mnist10k.py", "--limit", "0"], 2, "--limit 0: must be >= 1"),
    ("bench mnist10k: missing model", PY + [BENCH + "accel_mnist10k.py", "--model", "{tmp}/none.ffs"], 1,
     "cannot read"),
    ("synth: not an artifact", SYNTH + ["--model", "README.md"], 1, "bad magic"),
    ("synth: missing model", SYNTH + ["--model", "{tmp}/none.ffs"], 1, "cannot read"),
    ("synth: parallelism of the wrong length", SYNTH + ["--model", M, "--parallelism", "1x1"], 1,
     "1 entries for 6 layers"),
    ("synth: unknown part", SYNTH + ["--model", M, "--part", "zz"], 2, "invalid choice"),
    ("synth: --json unwritable (before synthesis)", SYNTH + ["--model", M, "--json", "/proc/x.json"], 2,
     "cannot write"),
    ("synth: --json a directory", SYNTH + ["--model", M, "--json", "{tmp}"], 2, "is a directory"),
    ("balance: not an artifact", BALANCE + ["--model", "README.md"], 1, "bad magic"),
    ("balance: negative --luts", BALANCE + ["--model", M, "--luts", "-5"], 2, "--luts -5: must be > 0"),
    ("balance: zero --brams", BALANCE + ["--model", M, "--brams", "0"], 2, "--brams 0: must be > 0"),
    ("balance: unknown data set", BALANCE + ["--model", M, "--dataset", "imagenet"], 1, "unknown data set"),
    ("balance: unknown option", BALANCE + ["--model", M, "--foo"], 2, "unrecognized arguments"),
]


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    import struct
    import zlib

    from sw.artifact import HEADER
    d = tmp_path_factory.mktemp("cli")
    blob = (ROOT / M).read_bytes()
    (d / "empty.ffs").write_bytes(b"")
    (d / "in_bits4.ffs").write_bytes(blob[:17] + bytes([4]) + blob[18:])
    v1 = bytearray(blob)
    struct.pack_into("<HHII", v1, 4, 1, HEADER.size, len(v1) - HEADER.size, zlib.crc32(bytes(v1[HEADER.size:])))
    (d / "v1.ffs").write_bytes(bytes(v1))
    from sw.random_model import make                    # a model that does not take MNIST frames
    make("3x32x32-4c3p1-mp2-10fc", 0.9).save(d / "cifar.ffs")
    return d


def one_error_line(stderr: str) -> str:
    lines = [l for l in stderr.splitlines() if l.strip()]
    errors = [l for l in lines if "error" in l.lower()]
    # data set notices (the CIFAR-10 offline subset) may precede it; nothing else may
    assert len(errors) == 1 and lines[-1] == errors[0] and len(lines) <= 4, stderr[-3000:]
    return errors[0]


@pytest.mark.parametrize("case,argv,code,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line(tmp, case, argv, code, fragment):
    argv = [a.replace("{tmp}", str(tmp)) for a in argv]
    before = {p: p.stat().st_mtime_ns for p in tmp.iterdir()}
    r = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert r.returncode == code, (r.returncode, r.stderr[-2000:])
    line = one_error_line(r.stderr)
    assert fragment in line, line
    if "soc.accel.rtlsim" in argv:
        assert "building" not in r.stdout, r.stdout[-2000:]      # refused before the Verilator build
    assert {p: p.stat().st_mtime_ns for p in tmp.iterdir()} == before, "a bad invocation wrote a file"


def test_artifact_summary_into_a_closed_pipe():
    """`python -m sw.artifact M | head -2` used to end in BrokenPipeError."""
    r = subprocess.run(f"{sys.executable} -m sw.artifact {M} | head -2", shell=True, cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert len(r.stdout.splitlines()) == 2 and r.stderr == "", r.stderr
