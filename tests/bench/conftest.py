"""Load a bench/ script as a module by file (bench/ is scripts, not a package; bench/neurobench.py would
shadow the `neurobench` package if bench/ were on sys.path)."""
import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def bench_module():
    def load(name):
        spec = importlib.util.spec_from_file_location(f"bench_{name}", os.path.join(ROOT, "bench", f"{name}.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    return load
