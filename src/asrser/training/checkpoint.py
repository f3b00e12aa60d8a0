"""A training job's resume point on disk: each set of weights stored once, read without running code.

    <checkpoint_dir>/weights-<n>.pt   the model's weights (checkpoint_state_dict) of save n
    <checkpoint_dir>/resume.pt        AdamW's state, the position and bookkeeping (as JSON), the
                                      random states, and the names of two weights files: the
                                      resume point's and the best epoch's

When the best epoch is the latest one (the usual case while a model still improves), both names
are the same file: at the paper size a job keeps 1.3 GB of weights instead of 2.5 GB. resume.pt is
written last and atomically, so a kill at any moment leaves a resume point whose files all exist;
the weights files it no longer names, and temporaries of a killed save, are deleted after it.

Every file is read with torch.load(weights_only=True), which unpickles tensors and plain
containers only: a file that someone else put into the folder (a checkpoint root on shared
scratch) cannot run code in this job. A file that is not what this module wrote, or that belongs
to another run (the fingerprint), is ignored with a warning naming it, and training starts afresh.
"""

from __future__ import annotations

import json
import logging
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from asrser.common.io import atomic_path

log = logging.getLogger(__name__)

FORMAT = 2  # 1: one pickle with numpy objects, read with weights_only=False
RESUME_FILE = "resume.pt"
WEIGHTS_FILE = re.compile(r"weights-(\d{6,})\.pt")
LEGACY_FILES = ("best.pt",)  # format 1's copy of the best epoch's weights


@dataclass
class ResumePoint:
    """What resume.pt and its weights file hold."""

    progress: dict
    model_state: dict[str, Tensor]
    optimizer_state: dict


# ---------------------------------------------------------------------------- random states
def random_states() -> dict:
    """torch's, numpy's and Python's global random states, in types weights_only accepts (the
    numpy state's key array as a tensor)."""
    name, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": {
            "name": str(name),
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": random.getstate(),
    }


def set_random_states(states: dict) -> None:
    numpy = states["numpy"]
    torch.set_rng_state(states["torch"])
    np.random.set_state(
        (
            numpy["name"],
            numpy["keys"].numpy().astype(np.uint32),
            numpy["position"],
            numpy["has_gauss"],
            numpy["cached_gaussian"],
        )
    )
    random.setstate(states["python"])


def _plain(value):
    """numpy scalars (metrics, comparisons) as Python ones, for json.dumps."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# ------------------------------------------------------------------------------------ reading
def safe_load(path: Path, mmap: bool = False):
    """torch.load with weights_only=True; a file it refuses (a pickle that would call anything
    but tensor and container constructors), or cannot read, gives None and a warning."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as error:
        message = " ".join(str(error).split())[:300]
        log.warning(
            "ignoring %s: not a checkpoint this pipeline wrote, or unreadable (%s: %s); it is "
            "never unpickled with code execution",
            path,
            type(error).__name__,
            message,
        )
        return None


def _is_tensor_dict(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, Tensor) for k, v in value.items()
    )


class CheckpointFolder:
    """The resume points of one training run (one folder per job)."""

    def __init__(self, directory: str | Path, fingerprint: str):
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        self.resume_path = self.directory / RESUME_FILE
        self.serial = 0  # of the last weights file written
        self.weights_name: str | None = None
        self.best_name: str | None = None

    def clear(self) -> None:
        """Remove every file of this module (resume point, weights, a killed save's temporaries)."""
        for path in self._own_files():
            path.unlink(missing_ok=True)
        self.serial, self.weights_name, self.best_name = 0, None, None

    def _own_files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        names = {RESUME_FILE, *LEGACY_FILES}
        return [
            path
            for path in self.directory.iterdir()
            if path.name in names
            or WEIGHTS_FILE.fullmatch(path.name)
            or _is_temporary_of(path.name, names)
        ]

    # ---------------------------------------------------------------------------- writing
    def save(
        self,
        progress: dict,
        model_state: dict[str, Tensor],
        optimizer_state: dict,
        best: bool,
    ) -> None:
        """Write a resume point; `best`: its weights are also the best epoch's."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.serial += 1
        weights_name = f"weights-{self.serial:06d}.pt"
        with atomic_path(self.directory / weights_name) as tmp:
            torch.save(model_state, tmp)
        best_name = weights_name if best else self.best_name
        state = {
            "format": FORMAT,
            "fingerprint": self.fingerprint,
            "serial": self.serial,
            "weights": weights_name,
            "best": best_name,
            "progress": json.dumps(progress, default=_plain),
            "optimizer": optimizer_state,
            # Not needed for exactness (every step reseeds), kept so nothing random is lost.
            "rng": random_states(),
        }
        with atomic_path(self.resume_path) as tmp:
            torch.save(state, tmp)
        self.weights_name, self.best_name = weights_name, best_name
        self._prune()

    def _prune(self) -> None:
        """Delete the weights files resume.pt no longer names and a killed save's temporaries
        (this job is the folder's only writer)."""
        keep = {RESUME_FILE, self.weights_name, self.best_name}
        for path in self._own_files():
            if path.name not in keep:
                path.unlink(missing_ok=True)

    # ---------------------------------------------------------------------------- reading
    def load(self) -> tuple[ResumePoint, dict] | None:
        """(the resume point, its random states), or None when there is none, or it belongs to
        another run, or a file is not what this module writes (each logged)."""
        if not self.resume_path.is_file():
            return None
        state = safe_load(self.resume_path)
        if state is None:
            return None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            log.warning(
                "checkpoint %s has another format (an older asrser, or not a resume point): "
                "starting afresh",
                self.resume_path,
            )
            return None
        if state.get("fingerprint") != self.fingerprint:
            log.warning(
                "checkpoint %s was written by other settings or data: starting afresh",
                self.resume_path,
            )
            return None
        names = [state.get("weights"), state.get("best")]
        if not _names_valid(names[0], names[1]):
            log.warning("ignoring %s: it names no valid weights files", self.resume_path)
            return None
        model_state = safe_load(self.directory / names[0])
        if not _is_tensor_dict(model_state):
            log.warning(
                "ignoring %s: its weights %s are missing or not a state dict",
                self.resume_path,
                names[0],
            )
            return None
        # The best epoch's weights are read at the end; check now that they load (cheaply,
        # memory-mapped) so that a bad file costs nothing but a restart.
        if names[1] not in (None, names[0]) and not _is_tensor_dict(
            safe_load(self.directory / names[1], mmap=True)
        ):
            log.warning("ignoring %s: its best epoch's weights %s", self.resume_path, names[1])
            return None
        try:
            progress = json.loads(state["progress"])
            optimizer_state = state["optimizer"]
            rng = state["rng"]
        except (KeyError, TypeError, ValueError) as error:
            log.warning("ignoring %s: incomplete (%s)", self.resume_path, error)
            return None
        self.serial = int(state.get("serial", 0))
        self.weights_name, self.best_name = names
        return ResumePoint(progress, model_state, optimizer_state), rng

    def best_weights(self) -> dict[str, Tensor] | None:
        """The best epoch's weights (None when no epoch finished)."""
        if self.best_name is None:
            return None
        path = self.directory / self.best_name
        state = safe_load(path)
        if not _is_tensor_dict(state):
            raise RuntimeError(
                f"the best epoch's weights {path} cannot be read back (see the warning above); "
                f"delete {self.directory} and rerun the training"
            )
        return state


def _names_valid(weights, best) -> bool:
    """Plain file names of this module's pattern: nothing else in the folder (or outside it,
    '../x') is read on a resume point's say."""
    if not isinstance(weights, str) or not WEIGHTS_FILE.fullmatch(weights):
        return False
    return best is None or (isinstance(best, str) and WEIGHTS_FILE.fullmatch(best) is not None)


def _is_temporary_of(name: str, names: set[str]) -> bool:
    """A temporary of asrser.common.io.atomic_path for one of this module's files (.<name>.XXXX.tmp)."""
    if not (name.startswith(".") and name.endswith(".tmp")):
        return False
    target = name[1:].rsplit(".", 2)[0]
    return target in names or WEIGHTS_FILE.fullmatch(target) is not None
