"""Differential test of the two artifact decoders: sw/artifact.py and the firmware's firmware/ffs.c (a
plain host build, tests/fuzz/ffs_check.c, ASan+UBSan) on 2,000 deterministic mutations of real files
(tests/fuzz/ffs_corpus.py). Both accept the same files (with the same T, k, input kind, layer count and
non-zeros) and refuse the others with the same error class (docs/artifact-format.md, Validation); the
firmware's own layer limit (check 16) is applied on the Python side too (Model.from_bytes max_layers).

FFS_DIFF_CASES sets the number of cases (default 2000)."""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import ffs_corpus  # noqa: E402
import fuzz_build  # noqa: E402

CASES = int(os.environ.get("FFS_DIFF_CASES", "2000"))


@pytest.fixture(scope="module")
def checker(tmp_path_factory):
    if fuzz_build.clang() is None:
        pytest.skip("clang not installed (apt-get install clang): the host build of ffs.c needs it")
    return fuzz_build.build_checker(tmp_path_factory.mktemp("ffs_check"))


def test_decoders_agree_on_the_mutated_corpus(checker, tmp_path):
    paths = ffs_corpus.write_corpus(tmp_path / "corpus", CASES)
    bad, classes = ffs_corpus.disagreements(paths, ffs_corpus.c_verdicts(checker, paths, tmp_path))
    assert not bad, f"{len(bad)} of {len(paths)} files differ:\n" + "\n".join(bad[:20])
    # the corpus reaches every check family, and some mutated files are still valid models
    assert set(classes) == {"OK", "truncated", "bad magic", "unknown format version", "inconsistent sizes",
                            "CRC mismatch", "out-of-range value", "unsupported topology"}, classes


def test_seeds_are_accepted_identically(checker, tmp_path):
    paths = []
    for i, blob in enumerate(ffs_corpus.seeds()):
        paths.append(tmp_path / f"seed{i}.ffs")
        paths[-1].write_bytes(blob)
    out = ffs_corpus.c_verdicts(checker, paths, tmp_path)
    assert all(v.startswith("OK") for v in out), out
    assert ffs_corpus.disagreements(paths, out)[0] == []
