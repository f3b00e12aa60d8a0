"""Which audio files a prediction run reads: folders expanded, duplicates dropped, headers
checked, files grouped by duration, and the messages naming the files that cannot be predicted."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from asrser.data.audio import AudioError, AudioInfo, audio_info

log = logging.getLogger(__name__)

# Shorter clips give the encoders no frame at all (wav2vec2's convolutions need 25 ms, the
# log-mel front end three 10-ms frames) and hold no word anyway.
MIN_SECONDS = 0.1
# What a folder given on the command line is searched for (formats soundfile reads).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".au", ".caf", ".w64")
MAX_LISTED = 10  # files named in the error when many cannot be predicted


def in_file_order(frames: list[pd.DataFrame], paths) -> pd.DataFrame:
    """The rows of every file, files in the order of `paths`, each file's rows as predicted
    (one concatenation and a stable sort: a resumed run's rows come part by part)."""
    # A group of soundless files has no rows: its empty frame (the columns only) would turn the
    # others' number columns into objects.
    frame = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    position = frame["file"].map({str(path): number for number, path in enumerate(paths)})
    return frame.iloc[np.argsort(position.to_numpy(), kind="stable")].reset_index(drop=True)


def read_header(path) -> AudioInfo:
    """A file's header facts; AudioError naming the file where it is missing, unreadable or
    too short to predict."""
    if not Path(path).is_file():
        raise AudioError(f"{path}: no such audio file")
    info = audio_info(path)
    if info.duration < MIN_SECONDS:
        raise AudioError(f"{path}: {info.duration:.3f} s of audio; at least {MIN_SECONDS} s needed")
    return info


def listing(problems: list[str], files: int) -> str:
    """One message for the files that cannot be predicted (the first MAX_LISTED named)."""
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} of {files} audio files cannot be predicted: " + first_named(
        problems, "; "
    )


def first_named(items: list[str], separator: str) -> str:
    """The first MAX_LISTED of `items`, then how many more."""
    more = len(items) - MAX_LISTED
    return separator.join(items[:MAX_LISTED] + ([f"and {more} more"] if more > 0 else []))


def audio_files(paths: Sequence[str | os.PathLike]) -> list[str | os.PathLike]:
    """`paths` with each folder replaced by the audio files under it (by suffix, sorted;
    hidden ones left out), each file once: one named twice, or also under a folder named, is
    predicted under the first of its names."""
    files: list[str | os.PathLike] = []
    seen: set[str] = set()
    repeated = 0
    for path in paths:
        if Path(path).is_dir():
            found = sorted(_audio_under(path))
            if not found:
                raise AudioError(
                    f"{path}: a folder without audio files (expected {', '.join(AUDIO_SUFFIXES)})"
                )
        else:
            found = [path]
        for file in found:
            if (real := os.path.realpath(file)) in seen:
                repeated += 1
                continue
            seen.add(real)
            files.append(file)
    if repeated:
        log.warning("%d files named more than once: each is predicted once", repeated)
    return files


def _audio_under(folder: str | os.PathLike) -> list[str]:
    """The audio files at any depth under `folder`, through linked folders too (each folder
    walked once, so a link back up does not loop). Hidden files and folders are left out:
    macOS's "._name.wav" companions (which the IEMOCAP release ships beside its audio) and
    the like are not recordings."""
    found, walked = [], set()
    for here, folders, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(here)
        if real in walked:
            folders[:] = []
            continue
        walked.add(real)
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [
            os.path.join(here, name)
            for name in files
            if not name.startswith(".")
            and os.path.splitext(name)[1].lower() in AUDIO_SUFFIXES
            and os.path.isfile(os.path.join(here, name))
        ]
    return found


def file_groups(durations: Sequence[float], max_seconds: float) -> list[list[int]]:
    """Consecutive file indices in groups of at most `max_seconds` (a longer file alone)."""
    groups: list[list[int]] = [[]]
    total = 0.0
    for index, seconds in enumerate(durations):
        if groups[-1] and total + seconds > max_seconds:
            groups.append([])
            total = 0.0
        groups[-1].append(index)
        total += seconds
    return groups
