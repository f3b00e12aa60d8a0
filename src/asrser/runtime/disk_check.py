"""Free disk against a run's needs, filesystem by filesystem, for the preflight.

A run writes to three places that may sit on different filesystems: models_dir (the hub models
fetched there), results/ (the data stage's corpora and the trained model folders) and
checkpoint_root (each training's resume points while it runs, node-local scratch perhaps). Each
need is a fixed number of bytes plus, for the checkpoint root, bytes per training running at
once (asrser.runtime.disk: a training's checkpoints at their peak). Needs are summed per filesystem (the
device of the nearest existing folder of each path) and set against its free space; a filesystem
holding the checkpoint root says how many trainings at once fit beside its fixed needs.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Need:
    """Disk one place of a run needs: `fixed_bytes`, plus `per_training_bytes` for each
    training running at once; `what` says what for, on one line."""

    place: str  # config key or folder: "models_dir", "results/", "checkpoint_root"
    path: Path
    fixed_bytes: int
    what: str
    per_training_bytes: int = 0


@dataclass
class FilesystemNeeds:
    """The needs that share one filesystem, and its free space."""

    mount: Path
    free_bytes: int
    needs: list[Need] = field(default_factory=list)

    @property
    def fixed_bytes(self) -> int:
        return sum(need.fixed_bytes for need in self.needs)

    @property
    def per_training_bytes(self) -> int:
        return sum(need.per_training_bytes for need in self.needs)

    @property
    def trainings_that_fit(self) -> int | None:
        """How many trainings at once fit beside the fixed needs (None: none keeps its
        checkpoints here)."""
        if not self.per_training_bytes:
            return None
        return max(0, (self.free_bytes - self.fixed_bytes) // self.per_training_bytes)

    @property
    def fits(self) -> bool:
        """The fixed needs fit, and one training's checkpoints beside them."""
        return self.free_bytes >= self.fixed_bytes + self.per_training_bytes


def existing_folder(path: str | os.PathLike) -> Path:
    """`path` or its nearest ancestor that exists (where a folder still to be made would go)."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def mount_point(path: str | os.PathLike) -> Path:
    """The mount point of the filesystem that holds `path` (or would)."""
    path = existing_folder(path)
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def device_of(folder: Path) -> int:
    """The device number of the filesystem holding the existing `folder`."""
    return os.stat(folder).st_dev


def by_filesystem(needs: list[Need]) -> list[FilesystemNeeds]:
    """`needs` grouped by the filesystem each path is (or would be) on, in order of first need."""
    groups: dict[int, FilesystemNeeds] = {}
    for need in needs:
        folder = existing_folder(need.path)
        device = device_of(folder)
        if device not in groups:
            groups[device] = FilesystemNeeds(mount_point(folder), shutil.disk_usage(folder).free)
        groups[device].needs.append(need)
    return list(groups.values())


def gigabytes(count: int) -> str:
    """Bytes for people: GB (10^9) from 1 GB, MB below."""
    return f"{count / 1e9:.1f} GB" if count >= 1e9 else f"{count / 1e6:.0f} MB"


def describe(group: FilesystemNeeds) -> str:
    """One line: the filesystem, its free space, what each place needs there, and whether it
    fits (with the trainings at once that fit, where checkpoints go)."""
    by_place: dict[str, list[str]] = {}
    for need in group.needs:
        by_place.setdefault(need.place, []).append(need.what)
    needs = "; ".join(f"{place}: {' and '.join(whats)}" for place, whats in by_place.items())
    line = f"{', '.join(by_place)} on {group.mount} ({gigabytes(group.free_bytes)} free): {needs}"
    if group.per_training_bytes:
        line += f"; room for {group.trainings_that_fit} training(s) at once beside the rest"
    if not group.fits:
        short = group.fixed_bytes + group.per_training_bytes - group.free_bytes
        line += f"; {gigabytes(short)} short of the least the run needs here"
    return line
