"""asrser-predict's resume points at scale: what keeping and rereading them costs for many files.

Runs asrser.prediction.api.predict_files over --files short wav files with -o-style resume points, the
model replaced by a stand-in that returns --rows-per-file rows per file at once (so only the
bookkeeping is measured, not inference), its groups sized to --files-per-group files (a group is
ten minutes of audio: three 3-minute calls, or 150 IEMOCAP-length utterances). The first run
is killed before its last group; the second resumes it; each runs in a process of its own.
Prints the time spent keeping each group (first and last tenth of the run), reading the kept
groups back at resume, and writing the output, and each run's peak memory. Not a test; about a
minute with the defaults (100,000 files: about 4 minutes, 2 GB).

    .venv/bin/python benchmarks/bench_prediction_resume.py [--files 20000] [--files-per-group 3]
        [--rows-per-file 40]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

import asrser.prediction.api as predict
from asrser.common.io import write_csv
from asrser.prediction.checkpoint import PredictionCheckpoint

FILE_SECONDS = 0.2  # the files' own length: only their headers are read


def make_files(folder: Path, count: int) -> list[Path]:
    """`count` copies of one short wav file (a copy is a byte write, not an encode)."""
    first = folder / "call-000000.wav"
    sf.write(first, np.zeros(int(FILE_SECONDS * 16000), dtype=np.float32), 16000)
    data = first.read_bytes()
    paths = [first]
    for number in range(1, count):
        path = folder / f"call-{number:06d}.wav"
        path.write_bytes(data)
        paths.append(path)
    return paths


def fake_rows(paths, rows_per_file: int) -> pd.DataFrame:
    """Rows shaped as a joint model's: segments with a transcript and four probabilities."""
    count = len(paths) * rows_per_file
    segment = np.tile(np.arange(rows_per_file), len(paths))
    return pd.DataFrame(
        {
            "file": np.repeat([str(p) for p in paths], rows_per_file),
            "segment": segment,
            "start_s": segment * 4.5,
            "end_s": segment * 4.5 + 4.0,
            "transcript": ["I'LL SEND YOU THE RESERVATION FIRST THING TOMORROW"] * count,
            "emotion": ["neu"] * count,
            **{f"prob_{e}": np.full(count, 0.25) for e in ("ang", "hap", "sad", "neu")},
        }
    )


def stand_in_model(files_per_group: int, rows_per_file: int, stop_after: int | None) -> None:
    """Groups of exactly `files_per_group` files, each predicted by `fake_rows` without torch or
    a model; with `stop_after`, the run is killed once that many groups are kept."""
    kept = []
    original_save = PredictionCheckpoint.save

    def save(self, paths, frame, stamps=None):
        started = time.perf_counter()
        result = original_save(self, paths, frame, stamps)
        kept.append(time.perf_counter() - started)
        return result

    def predict_group(model, processor, paths, *settings, **options):
        if stop_after is not None and len(kept) == stop_after:
            raise KeyboardInterrupt(143)
        # (rows, files that failed to decode, stamps: none, so each file's is taken as saved)
        return fake_rows(paths, rows_per_file), {}, {}

    predict.GROUP_SECONDS = files_per_group * FILE_SECONDS + 1e-6
    predict._predict_group = predict_group
    predict._load = lambda *settings: (None, None)  # (model, processor)
    PredictionCheckpoint.save = save
    return kept


def killed_run(work: Path, args) -> str:
    """The first run, killed before its last group."""
    groups = -(-args.files // args.files_per_group)
    kept = stand_in_model(args.files_per_group, args.rows_per_file, stop_after=groups - 1)
    started = time.perf_counter()
    with contextlib.suppress(KeyboardInterrupt):
        predict.predict_files(work / "model", [work / "calls"], resume_folder=work / "partial")
    tenth = max(1, len(kept) // 10)
    return (
        f"killed run, {len(kept)} of {groups} groups kept: {time.perf_counter() - started:.1f} s;"
        f" keeping a group {1000 * np.mean(kept[:tenth]):.1f} ms in the first tenth of the run, "
        f"{1000 * np.mean(kept[-tenth:]):.1f} ms in the last; {sum(kept):.1f} s in all; "
        f"peak RSS {peak_rss_mb():.0f} MB"
    )


def resumed_run(work: Path, args) -> str:
    """The rerun: the finished files read back, the last group predicted, the output written."""
    stand_in_model(args.files_per_group, args.rows_per_file, stop_after=None)
    reading = []
    original_finished = PredictionCheckpoint.finished

    def finished(self, paths):
        started = time.perf_counter()
        result = original_finished(self, paths)
        reading.append(time.perf_counter() - started)
        return result

    PredictionCheckpoint.finished = finished
    started = time.perf_counter()
    frame = predict.predict_files(work / "model", [work / "calls"], resume_folder=work / "partial")
    resumed = time.perf_counter() - started
    started = time.perf_counter()
    write_csv(work / "calls.csv", frame)
    return (
        f"resumed run: {resumed:.1f} s, {reading[0]:.1f} s of them reading the kept groups back; "
        f"output of {len(frame)} rows written in {time.perf_counter() - started:.1f} s "
        f"({(work / 'calls.csv').stat().st_size / 1e6:.0f} MB); peak RSS {peak_rss_mb():.0f} MB"
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--files-per-group", type=int, default=3)
    parser.add_argument("--rows-per-file", type=int, default=40)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_resume_"))
    try:
        (work / "model").mkdir()
        (work / "model" / "config.json").write_text("{}\n")  # all the fingerprint reads
        (work / "model" / "model.safetensors").write_bytes(b"")
        (work / "calls").mkdir()
        make_files(work / "calls", args.files)
        print(
            f"{args.files} files, {args.files_per_group} a group, {args.rows_per_file} rows each "
            "(no model: only the resume points are measured)"
        )
        # Each run in a process of its own, as two commands would be: its own peak memory.
        for run in (killed_run, resumed_run):
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
                print(pool.submit(run, work, args).result(), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
