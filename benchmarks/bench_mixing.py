"""Mixing throughput of the noisy corpora, in x real time (audio seconds produced per wall second).

Builds the six noisy test corpora and train_noisy from synthetic audio of realistic size (wav
utterances as IEMOCAP ships them, 16 kHz mono noise files as MUSAN ingestion leaves them), with
1 and 2 worker processes, including reading, mixing, 16-bit encoding and writing; prints the
total and per-worker figures. Not a test: run it by hand.

    .venv/bin/python benchmarks/bench_mixing.py [--utterances 300] [--format flac] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from asrser import NOISE_TYPES, SAMPLE_RATE
from asrser.data.audio import write_audio
from asrser.data.corpora import build_corpus

NOISY_CORPORA = ("noise15", "noise5", "music15", "music5", "speech15", "speech5", "train_noisy")


def synth(rng: np.random.Generator, seconds: float, rms: float) -> np.ndarray:
    """Band-limited noise under a syllable-rate envelope (speech-like level statistics)."""
    n = int(seconds * SAMPLE_RATE)
    x = np.cumsum(rng.standard_normal(n)) * 0.02
    x -= np.convolve(x, np.ones(64) / 64, mode="same")
    x *= 0.3 + np.abs(np.sin(2 * np.pi * 3.0 * np.arange(n) / SAMPLE_RATE))
    return (x * rms / np.sqrt(np.mean(x**2))).astype(np.float32)


def make_inputs(
    root: Path, utterances: int, seconds: float, noise_files: int, noise_seconds: float
):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(utterances):
        utt_id = f"Ses01F_impro01_F{i:04d}"
        path = root / "iemocap" / f"{utt_id}.wav"
        audio = synth(rng, rng.uniform(0.5, 1.5) * seconds, rms=rng.uniform(0.02, 0.1))
        write_audio(path, audio)
        rows.append(
            dict(
                utt_id=utt_id,
                speaker="Ses01F",
                emotion="neu",
                transcript="X",
                audio_path=str(path),
                duration=len(audio) / SAMPLE_RATE,
            )
        )
    musan = []
    for noise_type in NOISE_TYPES:
        for pool in ("train", "test"):
            for j in range(noise_files):
                path = root / "musan" / noise_type / f"{pool}{j:03d}.wav"
                write_audio(path, synth(rng, noise_seconds, rms=rng.uniform(0.02, 0.2)))
                musan.append(dict(type=noise_type, audio_path=str(path), pool=pool))
    return pd.DataFrame(rows), pd.DataFrame(musan)


def run(iemocap, musan, out: Path, workers: int, audio_format: str) -> tuple[float, float]:
    """(audio seconds produced, wall seconds) for all noisy corpora."""
    produced = 0.0
    start = time.perf_counter()
    for corpus in NOISY_CORPORA:
        manifest = build_corpus(
            iemocap, musan, corpus, out / corpus, seed=7, audio_format=audio_format, threads=workers
        )
        produced += manifest["duration"].sum()
    return produced, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=3.0, help="mean utterance length")
    parser.add_argument("--noise-files", type=int, default=10, help="per MUSAN type and pool")
    parser.add_argument("--noise-seconds", type=float, default=10.0)
    parser.add_argument("--format", choices=("flac", "wav"), default="flac")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--profile", action="store_true", help="cProfile one worker, one corpus")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_mixing.") as tmp:
        root = Path(tmp)
        iemocap, musan = make_inputs(
            root, args.utterances, args.seconds, args.noise_files, args.noise_seconds
        )
        print(
            f"{len(iemocap)} utterances, {iemocap['duration'].sum():.0f} s of speech; "
            f"{len(musan)} noise files x {args.noise_seconds:.0f} s; {len(NOISY_CORPORA)} noisy "
            f"corpora as {args.format}"
        )
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            build_corpus(iemocap, musan, "speech5", root / "profile", seed=7, threads=1)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        for workers in args.workers:
            produced, wall = run(iemocap, musan, root / f"out{workers}", workers, args.format)
            print(
                f"workers={workers}: {produced:.0f} s of audio in {wall:.2f} s wall = "
                f"{produced / wall:.0f}x real time total, {produced / wall / workers:.0f}x per worker"
            )


if __name__ == "__main__":
    main()
