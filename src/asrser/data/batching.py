"""Training data: utterances from a manifest CSV, their audio, and duration-bucketed batches.

Long utterances: an utterance over `max_utterance_seconds` would make one batch (and its
activations) arbitrarily large, the classic out-of-memory crash hours into a run. For the SER model
it is split into equal chunks under the cap that keep the emotion label (emotion is a property of
the whole turn); for the text tasks (asr, joint) it is skipped, because its transcript cannot be
split at the matching points. Both are counted and logged.

Batches are built by duration, not count: utterances sorted by duration (ties, at a resolution of
`sort_resolution_seconds`, broken at random per epoch so batches vary; at resolution 0 the batches
are the same every epoch, which lets un-augmented training reuse them) are grouped greedily so that
the padded length (longest x count) stays under `max_batch_seconds`; the batch order is shuffled per
epoch. Both depend only on (seed, epoch), so a resumed run sees the same batches.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from asrser import EMOTIONS, SAMPLE_RATE
from asrser.data.audio import read_audio

log = logging.getLogger(__name__)

TEXT_MODELS = ("asr", "joint")
EMOTION_MODELS = ("ser", "joint")


class ManifestError(ValueError):
    """A manifest is missing, empty or lacks what the model needs."""


@dataclass(frozen=True)
class Utterance:
    utt_id: str
    audio_path: str
    transcript: str
    emotion: str
    duration: float
    start: int = 0  # first sample (chunks of a split utterance)
    stop: int | None = None  # one past the last sample; None: to the end


@dataclass
class LongUtterances:
    """What happened to utterances over the cap (for the log and the history)."""

    limit_seconds: float | None
    skipped: list[str] = field(default_factory=list)
    split: dict[str, int] = field(default_factory=dict)  # utt_id -> number of chunks

    def describe(self, source: str) -> str:
        if self.limit_seconds is None:  # (pretraining reads its corpus uncapped)
            return f"{source}: no length cap, every utterance kept whole"
        if not self.skipped and not self.split:
            return f"{source}: no utterance over {self.limit_seconds:g} s"
        parts = []
        if self.skipped:
            parts.append(
                f"skipped {len(self.skipped)} (text model; e.g. {', '.join(self.skipped[:3])})"
            )
        if self.split:
            chunks = sum(self.split.values())
            parts.append(f"split {len(self.split)} into {chunks} chunks keeping their emotion")
        return f"{source}: utterances over {self.limit_seconds:g} s: " + "; ".join(parts)


def _resolve_audio(path: str, manifest_dir: Path) -> str:
    """Paths are relative to the working directory (workflow convention) or, failing that, to
    the manifest's folder (a self-contained corpus such as the pretraining corpus)."""
    if os.path.isabs(path) or os.path.exists(path):
        return path
    candidate = manifest_dir / path
    return str(candidate) if candidate.exists() else path


def read_manifest(path: str | Path, model: str) -> pd.DataFrame:
    """The manifest CSV, checked for the columns and values `model` needs (errors name the file)."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest '{path}' does not exist")
    frame = pd.read_csv(path, keep_default_na=False, dtype={"utt_id": str})
    needed = {"utt_id", "audio_path", "duration"}
    if model in TEXT_MODELS:
        needed.add("transcript")
    if model in EMOTION_MODELS:
        needed.add("emotion")
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise ManifestError(f"manifest '{path}' lacks columns {missing} needed for model '{model}'")
    if frame.empty:
        raise ManifestError(f"manifest '{path}' has no utterances")
    durations = pd.to_numeric(frame["duration"], errors="coerce")
    bad = frame.loc[~(durations > 0), "utt_id"].tolist()
    if bad:
        raise ManifestError(
            f"manifest '{path}': {len(bad)} utterance(s) without a positive duration, e.g. {bad[:5]}"
        )
    frame["duration"] = durations.astype(float)
    if model in EMOTION_MODELS:
        unknown = sorted(set(frame["emotion"]) - set(EMOTIONS))
        if unknown:
            raise ManifestError(
                f"manifest '{path}': emotion labels {unknown} are not among {list(EMOTIONS)}"
            )
    duplicated = frame.loc[frame["utt_id"].duplicated(), "utt_id"].tolist()
    if duplicated:
        raise ManifestError(f"manifest '{path}': duplicate utt_ids, e.g. {duplicated[:5]}")
    return frame


def load_utterances(
    path: str | Path, model: str, max_utterance_seconds: float | None = None
) -> tuple[list[Utterance], LongUtterances]:
    """Utterances of a manifest, long ones split (ser) or skipped (asr, joint); see module doc."""
    frame = read_manifest(path, model)
    folder = Path(path).parent
    report = LongUtterances(max_utterance_seconds)
    utterances: list[Utterance] = []
    for row in frame.itertuples(index=False):
        common = dict(
            audio_path=_resolve_audio(str(row.audio_path), folder),
            transcript=str(getattr(row, "transcript", "")),
            emotion=str(getattr(row, "emotion", "")),
        )
        duration = float(row.duration)
        if max_utterance_seconds is None or duration <= max_utterance_seconds:
            utterances.append(Utterance(utt_id=str(row.utt_id), duration=duration, **common))
        elif model in TEXT_MODELS:
            report.skipped.append(str(row.utt_id))
        else:
            pieces = math.ceil(duration / max_utterance_seconds)
            bounds = np.linspace(0, round(duration * SAMPLE_RATE), pieces + 1).round().astype(int)
            report.split[str(row.utt_id)] = pieces
            for k in range(pieces):
                utterances.append(
                    Utterance(
                        utt_id=f"{row.utt_id}@{k}",
                        duration=(bounds[k + 1] - bounds[k]) / SAMPLE_RATE,
                        start=int(bounds[k]),
                        stop=int(bounds[k + 1]),
                        **{**common, "transcript": ""},
                    )
                )
    log.info(report.describe(str(path)))
    if not utterances:
        raise ManifestError(
            f"manifest '{path}': no utterance left after skipping those over "
            f"{max_utterance_seconds} s (config key data.max_utterance_seconds)"
        )
    return utterances, report


class AudioStore:
    """Waveforms of utterances, read with asrser.data.audio.read_audio; optionally kept in memory
    (the demo corpus is small; a real corpus' training split may not fit)."""

    def __init__(self, cache: bool = True):
        self.cache = cache
        self._files: dict[str, np.ndarray] = {}

    def _file(self, path: str, keep: bool) -> np.ndarray:
        if path in self._files:
            return self._files[path]
        audio = read_audio(path)
        if self.cache and keep:
            self._files[path] = audio
        return audio

    def waveform(self, utterance: Utterance, keep: bool = True) -> np.ndarray:
        """keep=False: not kept in memory even when caching (the caller keeps what it makes)."""
        audio = self._file(utterance.audio_path, keep)
        if utterance.start or utterance.stop is not None:
            return audio[utterance.start : utterance.stop]
        return audio


# --------------------------------------------------------------------------------------- batches
def group_by_duration(
    durations: Sequence[float], order: Sequence[int], max_batch_seconds: float
) -> list[list[int]]:
    """Consecutive runs of `order` (ascending duration) whose longest x count fits the cap.

    An utterance longer than the cap gets a batch of its own (never dropped)."""
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0.0
    for index in order:
        duration = float(durations[index])
        candidate = max(longest, duration)
        if current and candidate * (len(current) + 1) > max_batch_seconds:
            batches.append(current)
            current, candidate = [], duration
        current.append(int(index))
        longest = candidate
    if current:
        batches.append(current)
    return batches


def padding_waste(durations: Sequence[float], batches: Sequence[Sequence[int]]) -> float:
    """Padded seconds / real seconds over the batches (0 = no padding)."""
    real = padded = 0.0
    for batch in batches:
        lengths = [float(durations[i]) for i in batch]
        real += sum(lengths)
        padded += max(lengths) * len(lengths)
    return (padded - real) / real if real else 0.0


def epoch_generator(seed: int, epoch: int, stream: int = 0) -> torch.Generator:
    """A generator that depends on (seed, epoch, stream) only: resumable without saved state."""
    return torch.Generator().manual_seed(
        int(np.random.SeedSequence([seed, epoch, stream]).generate_state(1)[0])
    )


class DurationBatchSampler:
    """Duration-bucketed batches, reshuffled per epoch from (seed, epoch).

    length_factor scales durations before capping (augmentation that lengthens audio, e.g. 95 %
    speed, must not push a batch over the cap)."""

    def __init__(
        self,
        durations: Sequence[float],
        max_batch_seconds: float,
        seed: int = 0,
        shuffle: bool = True,
        length_factor: float = 1.0,
        sort_resolution_seconds: float = 0.1,
    ):
        if max_batch_seconds <= 0:
            raise ValueError(f"max_batch_seconds must be positive, got {max_batch_seconds}")
        self.durations = np.asarray(durations, dtype=float) * length_factor
        self.max_batch_seconds = float(max_batch_seconds)
        self.seed = seed
        self.shuffle = shuffle
        self.resolution = sort_resolution_seconds
        self.oversized = int((self.durations > self.max_batch_seconds).sum())

    def batches(self, epoch: int) -> list[list[int]]:
        """The batches of `epoch` (a function of seed and epoch only)."""
        sorted_order = np.argsort(self.durations, kind="stable")
        if not self.shuffle:
            return group_by_duration(self.durations, sorted_order, self.max_batch_seconds)
        generator = epoch_generator(self.seed, epoch, stream=1)
        if self.resolution > 0:  # by coarse duration, at random within a bucket
            tiebreak = torch.rand(len(self.durations), generator=generator).numpy()
            order = np.lexsort((tiebreak, np.floor(self.durations / self.resolution)))
        else:  # the same batches every epoch
            order = sorted_order
        batches = group_by_duration(self.durations, order, self.max_batch_seconds)
        permutation = torch.randperm(len(batches), generator=generator).tolist()
        return [batches[i] for i in permutation]

    def padding_waste(self, batches: Sequence[Sequence[int]]) -> float:
        return padding_waste(self.durations, batches)
