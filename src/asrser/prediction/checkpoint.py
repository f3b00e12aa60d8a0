"""Resume points of an asrser-predict run: the rows of the files already predicted.

A run over a folder of calls can take hours; asrser-predict -o out.csv keeps each finished group
of files in out.csv.partial/ (part-NNNNN.csv, then its part-NNNNN.json naming the files by
resolved path, with their size, modification time and the name their rows carry: a part counts
once its JSON is there, and both are written atomically). A rerun with the same settings
predicts only the files not yet there (or changed since), whatever names it gives the others
(run from another folder, relative or absolute); the folder is removed once out.csv is written.
A rerun with other settings is refused, so one output never mixes two models or segmentations,
and so is a second run while one is writing to the folder (run.lock).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from asrser.common.fingerprint import file_stamp
from asrser.common.io import read_json, write_csv, write_json

SETTINGS_FILE = "settings.json"
LOCK_FILE = "run.lock"
PART_INDEX = re.compile(r"part-(\d+)\.json")
# Read back as written: an empty transcript stays "", a transcript such as "NAN" stays text.
TEXT_COLUMNS = {"file": str, "transcript": str}


def checkpoint_folder(output: str | os.PathLike) -> Path:
    """Where the resume points of a run writing `output` live."""
    output = Path(output)
    return output.with_name(output.name + ".partial")


class PredictionCheckpoint:
    """The finished groups of one asrser-predict run, kept in `folder` until the run ends."""

    def __init__(
        self, folder: str | os.PathLike, settings: dict, labels: dict[str, str] | None = None
    ):
        """labels: how the refusal of other settings names a setting (e.g. by its option)."""
        self.folder = Path(folder)
        settings = _as_json(settings)
        settings_path = self.folder / SETTINGS_FILE
        self.folder.mkdir(parents=True, exist_ok=True)
        # One run at a time: two runs counting their parts from the same number would overwrite
        # each other's, pairing one run's file list with the other's rows (files counted as done
        # with no rows). The lock goes with the process, however it ends.
        self._lock: int | None = os.open(self.folder / LOCK_FILE, os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.close()
            raise ValueError(
                f"{self.folder}: another asrser-predict run is writing to this output; wait for "
                "it to end (or stop it) before rerunning"
            ) from None
        indexes = self._indexes()
        saved = read_json(settings_path) if settings_path.is_file() else None
        if saved is not None and indexes:
            keys = saved.keys() | settings.keys()
            changed = sorted(
                {
                    (labels or {}).get(key, key)
                    for key in keys
                    if saved.get(key) != settings.get(key)
                }
            )
            if changed:
                self.close()
                raise ValueError(
                    f"{self.folder}: resume points of a run with other settings "
                    f"(differing: {', '.join(changed)}); rerun with the settings it was started "
                    "with, or delete that folder to start over"
                )
        elif saved != settings:  # no part kept yet: nothing another setting could mix with
            write_json(settings_path, settings)
        # Counted once: a glob per group would make a run over many files quadratic.
        self._next_number = max(indexes, default=(-1, None))[0] + 1

    def finished(self, paths: Sequence[str | os.PathLike]) -> tuple[set[str], list[pd.DataFrame]]:
        """Which of `paths` were finished earlier and are unchanged since, and their saved rows
        (a frame per part). A file is recognised under another name for it (relative or
        absolute, through a link): its rows then carry the name `paths` gives it."""
        wanted = {os.path.realpath(path): str(path) for path in paths}
        files: set[str] = set()
        rows: list[pd.DataFrame] = []
        # Newest part first: a file saved twice counts once, as last saved.
        for _, index_path in reversed(self._indexes()):
            renamed = {}  # saved name -> name in `paths`
            for real, entry in read_json(index_path).items():
                if len(entry) != 3:  # an index of an older version: its files are redone
                    continue
                size, mtime, saved_name = entry
                name = wanted.get(real)
                if (
                    name is not None
                    and name not in files
                    and os.path.isfile(real)
                    and file_stamp(real) == (size, mtime)
                ):
                    renamed[saved_name] = name
            if renamed:
                part = read_part(index_path.with_suffix(".csv"))
                part = part[part["file"].isin(renamed)]
                if any(saved != name for saved, name in renamed.items()):  # named otherwise now
                    part = part.assign(file=part["file"].map(renamed))
                rows.append(part)
                files |= set(renamed.values())
        return files, rows

    def has_parts(self) -> bool:
        """Whether any group's rows were kept (by this run or an earlier one)."""
        return self._next_number > 0

    def close(self) -> None:
        """Let another run use the folder (the process's end does it too)."""
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def __del__(self):
        if hasattr(self, "_lock"):  # not when __init__ failed before taking it
            self.close()

    def save(
        self,
        paths: Sequence[str | os.PathLike],
        frame: pd.DataFrame,
        stamps: dict[str, tuple[int, int]] | None = None,
    ) -> pd.DataFrame:
        """Keep the rows of a finished group of files; returns them as a resumed run reads them.

        stamps: each file's (size, time) from before it was decoded (default: now), so that a
        file that grew while it was predicted is predicted again by a resumed run."""
        stamps = stamps or {}
        missing = [path for path in paths if str(path) not in stamps]
        stamps = {**stamps, **{str(path): file_stamp(path) for path in missing}}
        stem = self.folder / f"part-{self._next_number:05d}"
        self._next_number += 1
        write_csv(stem.with_suffix(".csv"), frame)
        # The index last: a part without one (killed in between) is ignored. Keyed by the file
        # itself (its resolved path), with the name its rows carry.
        index = {os.path.realpath(path): [*stamps[str(path)], str(path)] for path in paths}
        write_json(stem.with_suffix(".json"), index)
        return read_part(stem.with_suffix(".csv"))

    def _indexes(self) -> list[tuple[int, Path]]:
        """(number, path) of each part's index, in the order the parts were saved."""
        found = (PART_INDEX.fullmatch(path.name) for path in self.folder.iterdir())
        return sorted((int(match[1]), self.folder / match[0]) for match in found if match)


def discard_checkpoint(folder: str | os.PathLike) -> None:
    """Remove a run's resume points once its output is written."""
    shutil.rmtree(folder, ignore_errors=True)


def read_part(path: Path) -> pd.DataFrame:
    # A file name that is not UTF-8 comes back as the surrogate escapes it went out as.
    return pd.read_csv(
        path, dtype=TEXT_COLUMNS, keep_default_na=False, encoding_errors="surrogateescape"
    )


def _as_json(settings: dict) -> dict:
    """Settings as they read back from JSON (tuples become lists), so equal ones compare equal."""
    return json.loads(json.dumps(settings, sort_keys=True, default=str))
