"""Host builds of the firmware's artifact decoder (firmware/ffs.c) for fuzzing, and a fuzz run.

    python tests/fuzz/fuzz_build.py [--seconds 600] [--corpus build/fuzz/corpus] [--out build/fuzz]

builds the libFuzzer harness (tests/fuzz/ffs_fuzz.c, clang -fsanitize=fuzzer,address,undefined), seeds
the corpus with the committed artifacts (artifacts/**/model.ffs) and fuzzes for --seconds, then prints
libFuzzer's execution count and the crash files it left (none: exit 0). The same functions build the
plain checker (tests/fuzz/ffs_check.c) that the differential test runs.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from soc.firmware_build import FIRMWARE_DIR, write_ffs_defs  # noqa: E402

SEEDS = sorted(ROOT.glob("artifacts/**/model.ffs"))
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
DICT = ['"FFSM"', '"\\x02\\x00\\x18\\x00"', '"\\x01\\x00\\x18\\x00"', '"\\x00\\x00\\x00\\x00"', '"\\xff\\xff\\xff\\xff"',
        '"scnn5"', '"1x28x28-8c3p1-16c3p1-mp2-32c3p1-mp2-64c3p1-64c3p1-mp2-10fc"', '"-mp2"', '"c3p1"', '"fc"']


def clang() -> str | None:
    return shutil.which("clang")


def _compile(out: Path, name: str, src: Path, flags: list[str]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    write_ffs_defs(out / "ffs_defs.h")
    exe = out / name
    cmd = [clang() or "clang", "-g", "-O1", "-std=gnu99", "-Wall", "-Wextra", "-Werror", f"-I{out}",
           f"-I{FIRMWARE_DIR}", *flags, str(FIRMWARE_DIR / "ffs.c"), str(FIRMWARE_DIR / "ffs_shape.c"), str(src), "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return exe


def build_fuzzer(out: Path) -> Path:
    return _compile(out, "ffs_fuzz", HERE / "ffs_fuzz.c", ["-fsanitize=fuzzer", *SANITIZE])


def build_checker(out: Path) -> Path:
    return _compile(out, "ffs_check", HERE / "ffs_check.c", SANITIZE)


def seed_corpus(corpus: Path) -> int:
    corpus.mkdir(parents=True, exist_ok=True)
    for i, p in enumerate(SEEDS):
        shutil.copyfile(p, corpus / f"seed-{i:02d}-{p.parent.name}.ffs")
    return len(SEEDS)


def fresh_peak_rss(cmd: list[str]) -> list[str]:
    """`cmd` run from a forked shell, so that its peak RSS starts from nothing. libFuzzer's RSS limit reads
    getrusage's ru_maxrss, and Linux carries the peak RSS of the process that calls exec over into the new
    program: started straight from a pytest worker that had reached 2 GB, libFuzzer reported "out-of-memory
    (used: 2051Mb; limit: 2048Mb)" in its first second. A child forked by the shell starts with a new count.
    """
    return ["/bin/sh", "-c", '"$@"; exit $?', "sh", *cmd]


def fuzz(exe: Path, corpus: Path, seconds: int, workdir: Path, log: Path | None = None) -> dict:
    """Run libFuzzer for `seconds` on `corpus`. Returns {"rc", "execs", "crashes": [paths], "log"}."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "ffs.dict").write_text("\n".join(DICT) + "\n")
    cmd = [str(exe), str(corpus), f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
           "-max_len=65536", "-print_final_stats=1", f"-dict={workdir / 'ffs.dict'}",
           f"-artifact_prefix={workdir}/"]
    r = subprocess.run(fresh_peak_rss(cmd), capture_output=True, text=True, timeout=seconds + 300,
                       env={"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1", "PATH": "/usr/bin:/bin"})
    text = r.stdout + r.stderr
    if log is not None:
        log.write_text(text)
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", text)
    crashes = sorted(str(p) for p in workdir.glob("*") if p.name.split("-")[0] in ("crash", "leak", "timeout", "oom"))
    return {"rc": r.returncode, "execs": int(m[1]) if m else None, "crashes": crashes, "log": text}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python tests/fuzz/fuzz_build.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--out", default=str(ROOT / "build" / "fuzz"))
    ap.add_argument("--corpus", default=None, help="default: OUT/corpus")
    a = ap.parse_args(argv)
    if a.seconds < 1:
        ap.error(f"--seconds {a.seconds}: must be >= 1")
    if clang() is None:
        ap.exit(1, "error: clang not found (apt-get install clang)\n")
    out = Path(a.out)
    corpus = Path(a.corpus) if a.corpus else out / "corpus"
    exe = build_fuzzer(out)
    n = seed_corpus(corpus)
    res = fuzz(exe, corpus, a.seconds, out / "findings", log=out / "fuzz.log")
    size = len(list(corpus.iterdir()))
    print(f"ffs_fuzz: {a.seconds} s, {res['execs']} executions, {n} seeds -> corpus of {size} files, "
          f"exit {res['rc']}, {len(res['crashes'])} crash/leak/timeout files{': ' if res['crashes'] else ''}"
          f"{' '.join(res['crashes'])}; log {out / 'fuzz.log'}")
    return 0 if res["rc"] == 0 and not res["crashes"] else 1


if __name__ == "__main__":
    sys.exit(main())
