"""Transcribe and classify audio files with a trained model: the `asrser-predict` command.

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
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from asrser import SAMPLE_RATE
from asrser.common.fingerprint import file_stamp, model_fingerprint
from asrser.data.audio import AudioError, AudioInfo, audio_info, read_audio, read_channels
from asrser.data.segmentation import (
    DEFAULT_MIN_PAUSE_SECONDS,
    PAD_SECONDS,
    SILENCE_DBFS,
    segment_bounds,
)
from asrser.prediction.checkpoint import PredictionCheckpoint, checkpoint_folder, discard_checkpoint

log = logging.getLogger(__name__)

DEFAULT_SEGMENT_SECONDS = 20.0  # the embedded default's data.max_utterance_seconds
# Shorter clips give the encoders no frame at all (wav2vec2's convolutions need 25 ms, the
# log-mel front end three 10-ms frames) and hold no word anyway.
MIN_SECONDS = 0.1
# What a folder given on the command line is searched for (formats soundfile reads).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".au", ".caf", ".w64")
# Files are decoded and predicted in groups of about this much audio (~38 MB of float32 at
# 16 kHz), so a folder of long calls is never held in memory at once, and a killed run with -o
# loses at most one group's work (asrser.prediction.checkpoint).
GROUP_SECONDS = 600.0
MAX_LISTED = 10  # files named in the error when many cannot be predicted
INTERRUPT_EXIT_STATUS = 130  # 128 + SIGINT, what a shell reports after Ctrl-C
BROKEN_PIPE_EXIT_STATUS = 141  # 128 + SIGPIPE, as other tools whose reader stopped early
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
            info = _header(path)
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
        raise AudioError(_listing(problems, len(paths)))
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
            raise AudioError(_listing(undecodable, len(paths)) + kept_note)
        completed = True
    finally:
        if checkpoint is not None:
            checkpoint.close()
            if not completed and not checkpoint.has_parts():  # (weights that did not load, ...)
                discard_checkpoint(resume_folder)
    return _in_file_order(kept, paths)


def _check_number(option: str, value: float, low: float, inclusive: bool = True) -> None:
    """ValueError naming the option when `value` is not a finite number above `low`."""
    if not math.isfinite(value) or value < low or (not inclusive and value == low):
        relation = ">=" if inclusive else ">"
        raise ValueError(f"{option} must be a finite number {relation} {low:g}, got {value}")


def _in_file_order(frames: list[pd.DataFrame], paths) -> pd.DataFrame:
    """The rows of every file, files in the order of `paths`, each file's rows as predicted
    (one concatenation and a stable sort: a resumed run's rows come part by part)."""
    # A group of soundless files has no rows: its empty frame (the columns only) would turn the
    # others' number columns into objects.
    frame = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    position = frame["file"].map({str(path): number for number, path in enumerate(paths)})
    return frame.iloc[np.argsort(position.to_numpy(), kind="stable")].reset_index(drop=True)


def _header(path) -> AudioInfo:
    """A file's header facts; AudioError naming the file where it is missing, unreadable or
    too short to predict."""
    if not Path(path).is_file():
        raise AudioError(f"{path}: no such audio file")
    info = audio_info(path)
    if info.duration < MIN_SECONDS:
        raise AudioError(f"{path}: {info.duration:.3f} s of audio; at least {MIN_SECONDS} s needed")
    return info


def _listing(problems: list[str], files: int) -> str:
    """One message for the files that cannot be predicted (the first MAX_LISTED named)."""
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} of {files} audio files cannot be predicted: " + _first_named(
        problems, "; "
    )


def _first_named(items: list[str], separator: str) -> str:
    """The first MAX_LISTED of `items`, then how many more."""
    more = len(items) - MAX_LISTED
    return separator.join(items[:MAX_LISTED] + ([f"and {more} more"] if more > 0 else []))


def _resolve_device(device: str):
    """The torch device for the --device setting (torch imported here, after the path checks)."""
    from asrser.runtime.device import resolve_device

    return resolve_device(device, option="--device")


def _load(model_dir, torch_device, threads: int | None):
    """The model and its processor (transformers imported here)."""
    from transformers.utils import logging as transformers_logging

    from asrser.models.speech_model import load_model
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
    from asrser.data.batching import TEXT_TASKS
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
            _first_named(soundless, ", "),
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
    if model.task in TEXT_TASKS:
        frame["transcript"] = transcripts
    if probs is not None:
        emotions = list(model.config.emotions)
        frame["emotion"] = [emotions[i] for i in probs.argmax(axis=1)]
        for column, emotion in enumerate(emotions):
            frame[f"prob_{emotion}"] = probs[:, column].round(4)
    return frame, failed, stamps


def _prediction_columns(model) -> list[str]:
    """The columns a model's predictions add after the segment's (see the module doc)."""
    from asrser.data.batching import TEXT_TASKS

    columns = ["transcript"] if model.task in TEXT_TASKS else []
    if model.task != "asr":
        columns += ["emotion", *(f"prob_{emotion}" for emotion in model.config.emotions)]
    return columns


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asrser-predict",
        description="Transcribe and/or classify the emotion of audio files with a model trained "
        "by the pipeline (a results/models/<model>-<train>/<fold>/model folder).",
    )
    parser.add_argument("model_dir", help="saved model folder (config.json, model.safetensors)")
    parser.add_argument(
        "audio", nargs="+", help="audio files (wav, flac, ...; any rate) or folders of them"
    )
    parser.add_argument(
        "-o",
        "--output",
        help="write a CSV here (default, or -: print it); a killed run, rerun with the same "
        "command, resumes from <output>.partial/",
    )
    parser.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="where the model runs: auto (a CUDA GPU when one is visible, else the CPU), cpu, "
        "or cuda (which fails at once where no GPU is visible); default: %(default)s",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads on the CPU (default: the cores this process may use, "
        f"{available_cores()} here)",
    )
    parser.add_argument(
        "--max-segment-seconds",
        type=float,
        default=DEFAULT_SEGMENT_SECONDS,
        help="longer stretches of speech are cut at their quietest points (default: %(default)s)",
    )
    parser.add_argument(
        "--min-pause-seconds",
        type=float,
        default=DEFAULT_MIN_PAUSE_SECONDS,
        help="files are split into stretches of speech at pauses at least this long "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--whole-files",
        action="store_true",
        help="do not split at pauses: cut only files longer than --max-segment-seconds",
    )
    parser.add_argument(
        "--foreground-db",
        type=float,
        help="leave out speech that stays more than this many dB below the file's speech "
        "level (its loudest 2 %%): a background talker or TV (10 dB on the demo); off by "
        "default, since the quieter party of a call mixed to mono may be that far down",
    )
    parser.add_argument(
        "--split-channels",
        action="store_true",
        help="predict each channel on its own (a call with one party per channel) instead of "
        "their mix; adds a 'channel' column",
    )
    parser.add_argument(
        "--max-batch-seconds",
        type=float,
        default=60.0,
        help="padded audio per batch (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for bad input, with one message)."""
    args = build_parser().parse_args(argv)
    if args.output == "-":  # the usual spelling of standard output
        args.output = None
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    resume_folder = checkpoint_folder(args.output) if args.output else None
    try:
        if args.output is not None:
            check_output(args.output)
        with _sigterm_as_interrupt():
            frame = predict_files(
                args.model_dir,
                args.audio,
                device=args.device,
                threads=args.threads,
                max_segment_seconds=args.max_segment_seconds,
                max_batch_seconds=args.max_batch_seconds,
                min_pause_seconds=None if args.whole_files else args.min_pause_seconds,
                split_channels=args.split_channels,
                resume_folder=resume_folder,
                foreground_db=args.foreground_db,
            )
    except KeyboardInterrupt as stop:
        kept = f"; rerun the same command to resume from {resume_folder}" if resume_folder else ""
        print(f"asrser-predict: stopped{kept}", file=sys.stderr)
        return stop.args[0] if stop.args else INTERRUPT_EXIT_STATUS
    except ValueError as error:  # bad paths (AudioError is one) and settings: no torch yet
        return _report(error)
    except Exception as error:
        # Imported here: these modules pull in torch, which a bad path should not wait for.
        from asrser.models.processing import ModelLoadError
        from asrser.runtime.device import DeviceError

        if not isinstance(error, ModelLoadError | DeviceError):
            raise
        return _report(error)
    if args.output:
        from asrser.common.io import write_csv

        write_csv(Path(args.output), frame)
        discard_checkpoint(resume_folder)
        return 0
    # A file name that is not UTF-8 goes out as the bytes it has, as ls writes it.
    if hasattr(sys.stdout, "reconfigure"):  # (not where a caller put a StringIO there)
        sys.stdout.reconfigure(errors="surrogateescape")
    try:
        frame.to_csv(sys.stdout, index=False)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return BROKEN_PIPE_EXIT_STATUS
    return 0


def check_output(output: str) -> None:
    """ValueError, before any work, for an output the CSV could not be written to, or that
    would overwrite a recording."""
    path = Path(output)
    if not output:
        raise ValueError("-o: an empty name; give a .csv file, or - for standard output")
    if path.suffix.lower() in AUDIO_SUFFIXES:
        raise ValueError(f"-o {output}: names an audio file, which the CSV would replace")
    if path.is_dir():
        raise ValueError(f"-o {output}: is a folder; give a file name such as {path / 'out.csv'}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"-o {output}: {parent} is a file, not a folder")
            break


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a cluster's time limit, kill) ends the run as Ctrl-C does: the group being
    written is discarded whole, the finished ones stay for the rerun."""

    def stop(signum, frame):
        raise KeyboardInterrupt(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave the signal alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _report(error: Exception) -> int:
    print(f"asrser-predict: error: {error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
