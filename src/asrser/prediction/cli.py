"""The `asrser-predict` command: its options, its output (a CSV file or standard output) and
its exit statuses (2 for bad input with one message, 130 when stopped, 141 when the reader of
standard output stopped early).

    asrser-predict results/models/joint-clean/Ses01F/model call1.wav call2.flac -o out.csv

What it predicts is asrser.prediction.api.predict_files.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from asrser.data.segmentation import DEFAULT_MIN_PAUSE_SECONDS
from asrser.prediction.api import DEFAULT_SEGMENT_SECONDS, available_cores, predict_files
from asrser.prediction.checkpoint import checkpoint_folder, discard_checkpoint
from asrser.prediction.files import AUDIO_SUFFIXES
from asrser.prediction.signals import sigterm_as_interrupt

INTERRUPT_EXIT_STATUS = 130  # 128 + SIGINT, what a shell reports after Ctrl-C
BROKEN_PIPE_EXIT_STATUS = 141  # 128 + SIGPIPE, as other tools whose reader stopped early


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
        with sigterm_as_interrupt():
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


def _report(error: Exception) -> int:
    print(f"asrser-predict: error: {error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
