"""Transcribe and classify audio files with a trained model: the Python API of `asrser-predict`.

    asrser-predict results/models/joint-clean/Ses01F/model call1.wav call2.flac -o out.csv

One row per segment: each file is split at its pauses into stretches of speech, and a stretch
longer than `--max-segment-seconds` (the models were trained on utterances of at most
`data.max_utterance_seconds`) is cut further at its quietest points (asrser.data.segmentation), so a
long recording reaches the model about utterance by utterance, as it was trained. Columns: file,
segment, start_s, end_s, then transcript (ASR and joint models), emotion and prob_<emotion> (SER
and joint models). Any sample rate and channel count is read (averaged to mono, resampled to
16 kHz); a file below 16 kHz (8 kHz telephone audio) is predicted with a warning, since it lacks
the upper band the models were trained on. With -o out.csv a killed run resumes: finished files are kept in out.csv.partial/
until out.csv is written (asrser.prediction.checkpoint).

Files are found and grouped by asrser.prediction.files; the command line is asrser.prediction.cli.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from asrser import SAMPLE_RATE
from asrser.common.fingerprint import file_stamp, model_fingerprint
from asrser.data.audio import AudioError, read_audio, read_channels
from asrser.data.segmentation import (
    DEFAULT_MIN_PAUSE_SECONDS,
    PAD_SECONDS,
    SILENCE_DBFS,
    segment_bounds,
)
from asrser.prediction.checkpoint import PredictionCheckpoint, discard_checkpoint
from asrser.prediction.files import (
    MIN_SECONDS,
    audio_files,
    file_groups,
    first_named,
    in_file_order,
    listing,
    read_header,
)

log = logging.getLogger(__name__)

DEFAULT_SEGMENT_SECONDS = 20.0  # the embedded default's data.max_utterance_seconds
# Files are decoded and predicted in groups of about this much audio (~38 MB of float32 at
# 16 kHz), so a folder of long calls is never held in memory at once, and a killed run with -o
# loses at most one group's work (asrser.prediction.checkpoint).
GROUP_SECONDS = 600.0
# How a resume refused for other settings names them: by the options that set them.
SETTING_LABELS = {
    "model_dir": "the model",
    "config_sha256": "the model",
    "weights": "the model",
    "device": "--device",
    "max_segment_seconds": "--max-segment-seconds",
    "max_batch_seconds": "--max-batch-seconds",
    "min_pause_seconds": "--min-pause-seconds or --whole-files",
    "split_channels": "--split-channels",
    "foreground_db": "--foreground-db",
}


def predict_files(
    model_dir: str | os.PathLike,
    paths: Sequence[str | os.PathLike],
    device: str = "auto",
    threads: int | None = None,
    max_segment_seconds: float = DEFAULT_SEGMENT_SECONDS,
    max_batch_seconds: float = 60.0,
    min_pause_seconds: float | None = DEFAULT_MIN_PAUSE_SECONDS,
    split_channels: bool = False,
    resume_folder: str | os.PathLike | None = None,
    foreground_db: float | None = None,
) -> pd.DataFrame:
    """Predictions of the model saved in `model_dir` for each segment of each file.

    The model folder and every file's header are checked before torch and transformers are
    imported (seconds), so a bad path fails at once with its name. A folder in `paths` stands
    for the audio files under it. threads None: the cores this process may use.
    min_pause_seconds None keeps each file whole, cut only where longer than
    max_segment_seconds. split_channels predicts each channel of a file on its own (rows then
    carry a `channel` column) instead of their mix. foreground_db: speech that stays more than
    this many dB below the file's speech level is taken for background (see
    asrser.data.segmentation.speech_stretches) and gets no row. resume_folder: where each finished
    group of files is kept (asrser.prediction.checkpoint), so that a rerun after a crash or
    kill predicts only the rest; the caller removes it once the result is saved.
    """
    if isinstance(paths, str | bytes | os.PathLike):  # would be read letter by letter
        raise TypeError(f"paths: expected a list of files or folders, got one: {paths!r}")
    if threads is not None and threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}")
    # Segments are at least half of max_segment_seconds long.
    _check_number("--max-segment-seconds", max_segment_seconds, 2 * MIN_SECONDS)
    _check_number("--max-batch-seconds", max_batch_seconds, MIN_SECONDS)
    if min_pause_seconds is not None:
        # Every stretch keeps PAD_SECONDS of the pauses around it: so it is >= MIN_SECONDS.
        _check_number("--min-pause-seconds", min_pause_seconds, 2 * PAD_SECONDS)
    if foreground_db is not None:
        if min_pause_seconds is None:
            raise ValueError(
                "--foreground-db needs pause splitting; it cannot go with --whole-files"
            )
        _check_number("--foreground-db", foreground_db, 0.0, inclusive=False)
    if not paths:
        raise ValueError("no audio files given")
    if not (Path(model_dir) / "config.json").is_file():
        raise ValueError(
            f"'{model_dir}' is not a saved model folder (no config.json); expected a trained "
            "model such as results/models/joint-clean/Ses01F/model"
        )
    paths = audio_files(paths)
    durations, problems = [], []
    for path in paths:
        try:
            info = read_header(path)
        except AudioError as error:  # all of them named at once: one fix, one rerun
            problems.append(str(error))
            continue
        durations.append(info.duration * (info.channels if split_channels else 1))
        if info.sample_rate < SAMPLE_RATE:
            log.warning(
                "%s: %d Hz audio, below the %d Hz the models were trained on (telephone "
                "audio?): it lacks the upper frequencies, and the transcripts and emotions "
                "come out markedly worse",
                path,
                info.sample_rate,
                SAMPLE_RATE,
            )
    if problems:
        raise AudioError(listing(problems, len(paths)))
    torch_device = _resolve_device(device)  # a GPU asked for where there is none: no folder yet
    checkpoint, finished, kept = None, set(), []
    if resume_folder is not None:
        settings = {
            **model_fingerprint(model_dir),
            # The device used, not the one asked for: "auto" on a CPU node and on a GPU node
            # (fp32 against bf16) must not mix in one output; "auto" and "cpu" on a CPU may.
            "device": torch_device.type,
            "max_segment_seconds": max_segment_seconds,
            "max_batch_seconds": max_batch_seconds,
            "min_pause_seconds": min_pause_seconds,
            "split_channels": split_channels,
            "foreground_db": foreground_db,
        }
        checkpoint = PredictionCheckpoint(resume_folder, settings, SETTING_LABELS)
        finished, kept = checkpoint.finished(paths)
        if finished:
            log.warning(
                "resuming: %d of %d files already predicted in %s",
                len(finished),
                len(paths),
                resume_folder,
            )
    completed = False
    try:
        todo = [i for i, path in enumerate(paths) if str(path) not in finished]
        if todo:  # (a run killed while writing its output has every file finished)
            model, processor = _load(model_dir, torch_device, threads)
        groups = file_groups([durations[i] for i in todo], GROUP_SECONDS) if todo else []
        undecodable: list[str] = []  # headers read, samples not: found only when a group is decoded
        for number, group in enumerate(groups, start=1):
            group_paths = [paths[todo[i]] for i in group]
            frame, failed, stamps = _predict_group(
                model,
                processor,
                group_paths,
                torch_device,
                max_segment_seconds,
                max_batch_seconds,
                min_pause_seconds,
                split_channels,
                foreground_db,
                desc=f"predict {number}/{len(groups)}",
            )
            undecodable += failed.values()
            predicted = [path for path in group_paths if str(path) not in failed]
            if predicted:
                saved = frame if checkpoint is None else checkpoint.save(predicted, frame, stamps)
                kept.append(saved)
        if undecodable:  # after the others, so that one bad file among thousands costs one rerun
            kept_note = (
                f"; the other files' predictions are kept in {resume_folder}: replace these "
                "files, or rerun without them (a file named on the command line must exist), "
                "to finish"
                if resume_folder is not None
                else ""
            )
            raise AudioError(listing(undecodable, len(paths)) + kept_note)
        completed = True
    finally:
        if checkpoint is not None:
            checkpoint.close()
            if not completed and not checkpoint.has_parts():  # (weights that did not load, ...)
                discard_checkpoint(resume_folder)
    return in_file_order(kept, paths)


def _check_number(option: str, value: float, low: float, inclusive: bool = True) -> None:
    """ValueError naming the option when `value` is not a finite number above `low`."""
    if not math.isfinite(value) or value < low or (not inclusive and value == low):
        relation = ">=" if inclusive else ">"
        raise ValueError(f"{option} must be a finite number {relation} {low:g}, got {value}")


def _resolve_device(device: str):
    """The torch device for the --device setting (torch imported here, after the path checks)."""
    from asrser.runtime.device import resolve_device

    return resolve_device(device, option="--device")


def _load(model_dir, torch_device, threads: int | None):
    """The model and its processor (transformers imported here)."""
    from transformers.utils import logging as transformers_logging

    from asrser.models.model_io import load_model
    from asrser.runtime.device import set_cpu_threads

    set_cpu_threads(threads or available_cores())
    transformers_logging.disable_progress_bar()
    return load_model(model_dir, device=torch_device)


def available_cores() -> int:
    """The cores this process may use (its CPU affinity, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _predict_group(
    model,
    processor,
    paths,
    device,
    max_segment_seconds: float,
    max_batch_seconds: float,
    min_pause_seconds: float | None,
    split_channels: bool,
    foreground_db: float | None = None,
    desc: str = "predict",
) -> tuple[pd.DataFrame, dict[str, str], dict[str, tuple[int, int]]]:
    """Rows of one group of files (each decoded once, cut into segments, predicted); the
    message for each file (by name) whose samples could not be decoded (its header read fine
    before the run: a corrupt stream, so it is named at the end and the others go on); and each
    decoded file's stamp as it was before decoding (a recording still being written is then
    seen as changed by a resumed run)."""
    from asrser.data.batching import TEXT_MODELS
    from asrser.evaluation.evaluate import predict_waveforms

    rows, segments, failed, stamps, soundless = [], [], {}, {}, []
    for path in paths:
        try:
            stamp = file_stamp(path)
            tracks = read_channels(path) if split_channels else [read_audio(path)]
        except (AudioError, OSError) as error:
            failed[str(path)] = str(error)
            continue
        stamps[str(path)] = stamp
        for channel, audio in enumerate(tracks):
            bounds = segment_bounds(
                audio,
                int(max_segment_seconds * SAMPLE_RATE),
                SAMPLE_RATE,
                min_pause_seconds,
                foreground_db,
            )
            where = {"file": str(path)} | ({"channel": channel} if split_channels else {})
            if not bounds:
                soundless.append(str(path) + (f" (channel {channel})" if split_channels else ""))
            for number, (start, end) in enumerate(bounds):
                start_s, end_s = round(start / SAMPLE_RATE, 3), round(end / SAMPLE_RATE, 3)
                rows.append({**where, "segment": number, "start_s": start_s, "end_s": end_s})
                segments.append(audio[start:end])
    if soundless:
        log.warning(
            "no sound (peak below %g dBFS), so no row, in %d %s: %s",
            SILENCE_DBFS,
            len(soundless),
            "file or channel" if len(soundless) == 1 else "files or channels",
            first_named(soundless, ", "),
        )
    columns = ["file", *(["channel"] if split_channels else []), "segment", "start_s", "end_s"]
    if not rows:
        return pd.DataFrame(columns=columns + _prediction_columns(model)), failed, stamps
    transcripts, probs = predict_waveforms(
        model,
        processor,
        segments.__getitem__,
        [len(segment) / SAMPLE_RATE for segment in segments],
        device,
        max_batch_seconds,
        desc=desc,
    )
    frame = pd.DataFrame(rows)
    if model.config.model in TEXT_MODELS:
        frame["transcript"] = transcripts
    if probs is not None:
        emotions = list(model.config.emotions)
        frame["emotion"] = [emotions[i] for i in probs.argmax(axis=1)]
        for column, emotion in enumerate(emotions):
            frame[f"prob_{emotion}"] = probs[:, column].round(4)
    return frame, failed, stamps


def _prediction_columns(model) -> list[str]:
    """The columns a model's predictions add after the segment's (see the module doc)."""
    from asrser.data.batching import TEXT_MODELS

    columns = ["transcript"] if model.config.model in TEXT_MODELS else []
    if model.config.model != "asr":
        columns += ["emotion", *(f"prob_{emotion}" for emotion in model.config.emotions)]
    return columns
