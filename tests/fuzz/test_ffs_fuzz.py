"""Coverage-guided fuzzing of the firmware's artifact decoder (firmware/ffs.c) with libFuzzer, ASan and
UBSan (tests/fuzz/ffs_fuzz.c: every input decoded as it is and resealed; a refusal must be one line of a
documented class), seeded with the committed artifacts. A bounded run: FFS_FUZZ_SECONDS (default 60).
Then the corpus libFuzzer grew goes through both decoders, which must agree on every file, as found and
resealed (body_len and CRC recomputed). A longer run: python tests/fuzz/fuzz_build.py --seconds 600."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import ffs_corpus  # noqa: E402
import fuzz_build  # noqa: E402

SECONDS = int(os.environ.get("FFS_FUZZ_SECONDS", "60"))
pytestmark = pytest.mark.skipif(fuzz_build.clang() is None,
                                reason="clang not installed (apt-get install clang): libFuzzer comes with it")


def test_libfuzzer_finds_no_crash_and_the_grown_corpus_agrees(tmp_path):
    exe = fuzz_build.build_fuzzer(tmp_path / "bin")
    corpus = tmp_path / "corpus"
    n_seeds = fuzz_build.seed_corpus(corpus)
    assert n_seeds >= 2
    res = fuzz_build.fuzz(exe, corpus, SECONDS, tmp_path / "findings", log=tmp_path / "fuzz.log")
    assert res["rc"] == 0 and not res["crashes"], res["log"][-4000:]
    assert res["execs"] and res["execs"] > 1000, res["log"][-2000:]
    grown = sorted(corpus.iterdir())
    assert len(grown) > n_seeds, "libFuzzer added nothing to the corpus"
    resealed = tmp_path / "resealed"
    resealed.mkdir()
    for p in grown:
        b = bytearray(p.read_bytes())
        ffs_corpus.seal(b)
        (resealed / p.name).write_bytes(bytes(b))
    files = grown + sorted(resealed.iterdir())
    checker = fuzz_build.build_checker(tmp_path / "check")
    bad, classes = ffs_corpus.disagreements(files, ffs_corpus.c_verdicts(checker, files, tmp_path))
    assert not bad, f"{len(bad)} of {len(files)} files differ:\n" + "\n".join(bad[:20])
    print(f"libFuzzer: {res['execs']} executions in {SECONDS} s, corpus {n_seeds} -> {len(grown)} files; "
          f"verdicts on the corpus (as found and resealed): {classes}")


def test_the_rss_limit_counts_the_fuzzer_not_the_process_that_starts_it(tmp_path):
    """The fuzz run's RSS limit must see libFuzzer's own memory: a parent at 600 MB must not show through."""
    exe = fuzz_build.build_fuzzer(tmp_path / "bin")
    corpus = tmp_path / "corpus"
    fuzz_build.seed_corpus(corpus)
    ballast = np.ones(600 * 2**20 // 8)                 # 600 MB touched in this process

    def first_rss(cmd):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        return int(re.search(r"rss: (\d+)Mb", r.stderr)[1])

    cmd = [str(exe), "-runs=1", str(corpus)]
    assert first_rss(cmd) >= 600                        # the trap: exec keeps the parent's peak
    assert first_rss(fuzz_build.fresh_peak_rss(cmd)) < 300
    del ballast
