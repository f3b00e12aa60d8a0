"""Where training jobs keep their resume points: config key `checkpoint_root`.

Each training job keeps its resume points in `<checkpoint_root>/<model>-<train>/<fold>` and
removes that folder once its outputs exist. At the paper size a job needs several GB there while
it runs (docs/cluster-and-gpu.md), so the root may be node-local scratch.

Environment variables and `~` in the root are expanded by each job on the machine it runs on:
`checkpoint_root: $TMPDIR/asrser` means each compute node's own scratch. While the workflow is
planned the root is checked with the planning machine's environment, which is where the jobs of a
local run (and of a run inside one Slurm allocation) write it; a variable that is not set there is
left to the jobs, each of which checks its folder before training and stops, naming the key, when
the variable is unset or the folder cannot be written. The root's text, not its expansion, is
what the workflow compares between runs, and no job's parameters depend on it: moving the root
reruns nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import re
import tempfile
from pathlib import Path

from asrser.common.config import ConfigError

log = logging.getLogger(__name__)

KEY = "checkpoint_root"
_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")


def unset_variables(root: str) -> list[str]:
    """The environment variables `root` refers to that are not set here."""
    names = [a or b for a, b in _VARIABLE.findall(root)]
    return [name for name in names if name not in os.environ]


def expand_root(root: str) -> Path:
    """`root` with `~` and environment variables expanded; a ConfigError naming the key when a
    variable is not set."""
    missing = unset_variables(root)
    if missing:
        raise ConfigError(
            f"config key '{KEY}': '{root}' uses the environment variable(s) "
            f"{', '.join(missing)}, not set on this machine ({platform.node()}); expected a "
            "folder that every training job can write, e.g. node-local scratch such as "
            "$TMPDIR/asrser on nodes that set TMPDIR"
        )
    return Path(os.path.expanduser(os.path.expandvars(root)))


def check_writable(folder: Path, root: str) -> None:
    """`folder` is, or can become, a writable directory: a file is created and deleted in it
    (or in its deepest existing ancestor). A ConfigError naming the key otherwise."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    problem = None
    if not existing.is_dir():
        problem = f"'{existing}' is not a directory"
    else:
        try:
            with tempfile.TemporaryFile(dir=existing, prefix=".asrser-write-test-"):
                pass
        except OSError as error:
            problem = f"cannot create a file in '{existing}' ({error.strerror or error})"
    if problem:
        expanded = f" (expands to '{folder}')" if str(folder) != root else ""
        raise ConfigError(
            f"config key '{KEY}': '{root}'{expanded} cannot be written: {problem}; expected a "
            "folder where training jobs can keep their resume points (several GB a job at the "
            "paper's size, see docs/cluster-and-gpu.md)"
        )


def check_checkpoint_root(root: str) -> Path | None:
    """Plan-time check (asrser.common.config.validate_config): the root, expanded here, can be written.
    None when it names a variable not set here (then each job checks it where it runs)."""
    if unset_variables(root):
        log.info(
            "config key '%s': '%s' names variables not set here (%s); each training job "
            "checks it on its node",
            KEY,
            root,
            ", ".join(unset_variables(root)),
        )
        return None
    folder = expand_root(root)
    check_writable(folder, root)
    return folder


def job_checkpoint_dir(root: str, run: str, fold: str) -> Path:
    """A training job's folder, `<root>/<run>/<fold>` with the root expanded on this machine,
    checked to be writable (a ConfigError naming the key otherwise)."""
    folder = expand_root(root) / run / fold
    check_writable(folder, root)
    return folder


def remove_empty_job_folders(root: str, runs: list[str], folds: list[str]) -> None:
    """After a successful run: the job folders that the jobs have emptied and the run folders
    above them (a folder still holding a resume point, of a job killed earlier, stays). Only the
    layout the jobs create is touched; the root goes too when empty, unless it names environment
    variables (scratch that belongs to the node or the allocation)."""
    if unset_variables(root):
        return
    base = expand_root(root)
    for run in runs:
        for fold in folds:
            with contextlib.suppress(OSError):  # absent or not empty
                (base / run / fold).rmdir()
        with contextlib.suppress(OSError):
            (base / run).rmdir()
    if not _VARIABLE.search(root):
        with contextlib.suppress(OSError):
            base.rmdir()
