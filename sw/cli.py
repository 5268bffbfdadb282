"""Command-line plumbing shared by the entry points: bad input gets one line on stderr and a non-zero exit,
never a traceback, and cheap checks (paths, artifact, data set, shapes) run before any long work.

    ap = OneLineParser(prog="python -m sw.golden", ...)      # argparse errors: one line, exit 2
    problem = output_problem(args.json)                        # None, or why the path cannot be written
    write_output(args.json, text)                              # CLIError naming the path on failure
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path


class CLIError(Exception):
    """A user error found by a command-line tool; the message is the whole error line."""


class OneLineParser(argparse.ArgumentParser):
    """argparse with a one-line error (argparse's last line, without the usage block): `PROG: error: MESSAGE`,
    exit 2."""

    def error(self, message):
        one_line_error(self, message)


def one_line_error(parser, message):
    """The error() of OneLineParser, for a parser of another class (LiteX's): `parser.error = ...`."""
    parser.exit(2, f"{parser.prog}: error: {message}\n")


def output_problem(path) -> str | None:
    """Why `path` cannot be written (checked by creating and removing a probe file beside it), or None."""
    if path is None:
        return None
    p = Path(path)
    if p.is_dir():
        return f"{path}: is a directory"
    parent = p.parent
    if not parent.is_dir():
        return f"{path}: directory {parent} does not exist"
    problem = _probe(path, parent)
    if problem:
        return problem
    if p.exists() and not os.access(p, os.W_OK):
        return f"{path}: not writable"
    return None


def folder_problem(path) -> str | None:
    """Why `path` cannot be (created and) written as an output folder, or None. Creates nothing that
    stays: a probe file in the folder, or in its nearest existing ancestor, is made and removed."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        return f"{path}: exists and is not a folder"
    probe_in = p
    while not probe_in.exists():
        probe_in = probe_in.parent
    if not probe_in.is_dir():
        return f"{path}: {probe_in} is not a folder"
    return _probe(path, probe_in)


def _probe(path, folder: Path) -> str | None:
    """Why nothing can be written in `folder` (a probe file is created and removed there), or None."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        return f"{path}: cannot write in {folder}: {e.strerror}"
    return None


def write_output(path, text: str) -> None:
    try:
        Path(path).write_text(text)
    except OSError as e:
        raise CLIError(f"{path}: cannot write: {e.strerror}") from None


def load_frames(model_path, dataset: str, split: str = "test", offset: int = 0, limit: int | None = None):
    """The artifact and a slice of a data set that fits it: (model, images, labels). Every problem
    (unreadable or malformed artifact, missing data set, offset past the end, frames whose shape the model
    does not take) is one CLIError, raised before any long work."""
    from .artifact import ArtifactError, Model
    from .datasets import DatasetError, load
    from .golden import check_frames
    try:
        model = Model.load(model_path)
        ds = load(dataset, split, **({"timesteps": model.timesteps} if dataset == "dvs-gesture" else {}))
        if not 0 <= offset < len(ds.images):
            raise CLIError(f"--offset {offset}: the {dataset} {split} split has {len(ds.images)} frames")
        end = len(ds.images) if limit is None else min(len(ds.images), offset + limit)
    except (ArtifactError, DatasetError) as e:
        raise CLIError(str(e)) from None
    images, labels = ds.images[offset:end], ds.labels[offset:end]
    try:
        check_frames(model, images)
    except ValueError as e:
        raise CLIError(f"{dataset}: {e}") from None
    return model, images, labels
