"""MUSAN ingestion: list the noise bank, convert what is not 16 kHz mono, split train/test pools.

Layout read: <root>/{music,speech,noise}/<subset>/*.wav. ANNOTATIONS, LICENSE, README, other
non-wav and hidden files are ignored (and counted). A file that is stereo or not at 16 kHz is
converted (channels averaged, torchaudio resampling) into <converted_dir>/<type>/<subset>/<name>.wav,
never rejected; an unreadable or empty file is counted and reported, never a crash.

Each type's files are split into disjoint train and test pools with a seeded generator, so test
mixtures only use noises never heard in training.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from asrser import NOISE_TYPES, SAMPLE_RATE
from asrser.common.io import atomic_dir
from asrser.data.audio import AudioError, audio_info, read_audio, write_audio

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = (
    "type",
    "subset",
    "name",
    "source_path",
    "audio_path",
    "duration",
    "orig_sample_rate",
    "orig_channels",
    "converted",
    "pool",
)
EXAMPLES_PER_REASON = 5


@dataclass(frozen=True)
class MusanFile:
    type: str
    subset: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.stem


def list_musan(root: str | os.PathLike) -> tuple[list[MusanFile], Counter]:
    """The wav files of every type and subset (sorted), and counts of ignored entries by kind."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"MUSAN root '{root}' is not a directory; expected the folder holding music/, "
            "speech/ and noise/"
        )
    missing = [kind for kind in sorted(NOISE_TYPES) if not (root / kind).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"MUSAN root '{root}' lacks {', '.join(m + '/' for m in missing)}; expected the "
            "folder holding music/, speech/ and noise/"
        )
    files: list[MusanFile] = []
    ignored: Counter = Counter()
    for kind in sorted(NOISE_TYPES):
        for subset in sorted(os.scandir(root / kind), key=lambda e: e.name):
            if subset.name.startswith("."):
                ignored["hidden"] += 1
            elif not subset.is_dir():
                ignored["not_in_a_subset"] += 1  # ANNOTATIONS, LICENSE, README of the type
            else:
                files += _subset_files(kind, Path(subset.path), ignored)
    return files, ignored


def _subset_files(kind: str, folder: Path, ignored: Counter) -> list[MusanFile]:
    files = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith("."):
            ignored["hidden"] += 1
        elif entry.is_file() and entry.name.lower().endswith(".wav"):
            files.append(MusanFile(kind, folder.name, Path(entry.path)))
        else:
            ignored["not_wav"] += 1  # ANNOTATIONS, LICENSE, README, sub-folders
    return files


def split_pools(count: int, test_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A 'train'/'test' label per file: round(test_fraction * count) test files, at least one each."""
    if count < 2:
        raise ValueError(f"cannot split {count} file(s) into train and test pools; need at least 2")
    n_test = min(max(round(test_fraction * count), 1), count - 1)
    pools = np.full(count, "train", dtype=object)
    pools[rng.permutation(count)[:n_test]] = "test"
    return pools


def ingest_musan(
    root: str | os.PathLike,
    converted_dir: str | os.PathLike,
    seed: int,
    test_fraction: float,
) -> tuple[pd.DataFrame, dict]:
    """Manifest (MANIFEST_COLUMNS) of MUSAN with seeded pools, and a summary dict.

    `converted_dir` is (re)created atomically and always exists afterwards, empty when every file
    is already 16 kHz mono.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"musan test_fraction must be in (0, 1), got {test_fraction}")
    root, converted_dir = Path(root), Path(converted_dir)
    files, ignored = list_musan(root)
    unreadable: dict[str, list[str]] = {"unreadable": [], "empty": []}
    rows = []
    with atomic_dir(converted_dir) as staging:
        for item in tqdm(files, desc="MUSAN files", unit="file", mininterval=2.0):
            row = _ingest_file(item, converted_dir, staging, unreadable)
            if row is not None:
                rows.append(row)
    frame = pd.DataFrame(rows, columns=[c for c in MANIFEST_COLUMNS if c != "pool"])
    frame = frame.sort_values(["type", "subset", "name"], kind="stable").reset_index(drop=True)
    frame["pool"] = _pools(frame, root, seed, test_fraction)
    return frame, _summary(root, frame, files, ignored, unreadable, seed, test_fraction)


def _ingest_file(
    item: MusanFile, converted_dir: Path, staging: Path, unreadable: dict[str, list[str]]
) -> dict | None:
    try:
        info = audio_info(item.path)
    except AudioError as exc:
        log.warning("%s", exc)
        unreadable["unreadable"].append(str(item.path))
        return None
    if info.frames == 0:
        log.warning("%s: empty audio (0 samples); not used", item.path)
        unreadable["empty"].append(str(item.path))
        return None
    converted = info.sample_rate != SAMPLE_RATE or info.channels != 1
    audio_path, duration = item.path, info.duration
    if converted:
        try:
            audio = read_audio(item.path, SAMPLE_RATE)
        except AudioError as exc:  # header fine, samples not
            log.warning("%s", exc)
            unreadable["unreadable"].append(str(item.path))
            return None
        relative = Path(item.type, item.subset, f"{item.name}.wav")
        (staging / relative).parent.mkdir(parents=True, exist_ok=True)
        write_audio(staging / relative, audio, SAMPLE_RATE)
        audio_path, duration = converted_dir / relative, len(audio) / SAMPLE_RATE
    return {
        "type": item.type,
        "subset": item.subset,
        "name": item.name,
        "source_path": str(item.path),
        "audio_path": str(audio_path),
        "duration": duration,
        "orig_sample_rate": info.sample_rate,
        "orig_channels": info.channels,
        "converted": converted,
    }


def _pools(frame: pd.DataFrame, root: Path, seed: int, test_fraction: float) -> pd.Series:
    """Pool per row of `frame` (sorted by type, subset, name)."""
    pools = pd.Series("", index=frame.index, dtype=object)
    counts = frame["type"].value_counts()
    too_few = [kind for kind in sorted(NOISE_TYPES) if counts.get(kind, 0) < 2]
    if too_few:  # every such type at once: one fix, one rerun
        raise ValueError(
            f"MUSAN root '{root}': "
            + ", ".join(
                f"'{kind}' has {counts.get(kind, 0)} usable wav file(s)" for kind in too_few
            )
            + "; at least 2 per type are needed for disjoint train and test pools"
        )
    for type_index, kind in enumerate(sorted(NOISE_TYPES)):
        # One generator per type: a type's split does not depend on the other types' files.
        members = frame.index[frame["type"] == kind]
        rng = np.random.default_rng([seed, type_index])
        pools[members] = split_pools(len(members), test_fraction, rng)
    return pools


def _summary(
    root: Path,
    frame: pd.DataFrame,
    files: list[MusanFile],
    ignored: Counter,
    unreadable: dict[str, list[str]],
    seed: int,
    test_fraction: float,
) -> dict:
    per_type = {}
    for kind, group in frame.groupby("type"):
        per_type[str(kind)] = {
            "files": len(group),
            "train": int((group["pool"] == "train").sum()),
            "test": int((group["pool"] == "test").sum()),
            "converted": int(group["converted"].sum()),
            "hours": round(float(group["duration"].sum()) / 3600.0, 4),
            "subsets": sorted(group["subset"].unique().tolist()),
        }
    return {
        "root": str(root),
        "seed": seed,
        "test_fraction": test_fraction,
        "wav_files": len(files),
        "kept": len(frame),
        "converted": int(frame["converted"].sum()),
        "dropped": {reason: len(paths) for reason, paths in unreadable.items()},
        "dropped_files": {reason: paths for reason, paths in unreadable.items() if paths},
        "ignored": dict(sorted(ignored.items())),
        "per_type": per_type,
    }
