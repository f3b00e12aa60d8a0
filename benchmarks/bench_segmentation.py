"""Long recordings: asrser-predict's segmentation against its alternatives, in WER and accuracy.

Rebuilds one speaker's side of each synthetic IEMOCAP dialog as one recording (the utterances at
their start times in room tone, about a minute each; optionally under a MUSAN test-pool file of
--noise-type (noise, music, or speech: a background talker) looped over the whole recording at
--snr-db relative to the speech, or with --changing-background those files in turn, switching
file and level every 8 s), predicts it with the --model of the fold that holds that speaker
out, and prints the pooled WER against the dialog's text and (SER and joint models) the emotion
accuracy of its utterances, each judged by the segment most of it falls in, for five ways of
cutting it, each with segments of at most --max-segment-seconds (with the number of utterances
split across segments, and of those merged: sharing their main segment with another utterance):

- utterances: the corpus' own utterance boundaries (what the evaluation sees; the reference);
- pauses: stretches of speech between pauses, long ones cut at their quietest points (the
  default of asrser-predict);
- foreground: the same, with speech more than --foreground-db below the recording's speech level
  taken for background (asrser-predict --foreground-db);
- quietest: the whole recording cut only for length, at its quietest points (--whole-files);
- equal: the fewest equal parts (asrser-predict before pause splitting).

Needs the demo's outputs (`make demo`; without them it prints SKIPPED). Not a test; about a
minute per condition on one thread.

    .venv/bin/python benchmarks/bench_segmentation.py [--model asr-clean] [--snr-db none 15 5]
        [--noise-type noise] [--changing-background]
        [--cutting utterances pauses foreground quietest equal]
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RATE = 16000
SWITCH_SECONDS = 8.0  # --changing-background: the noise changes file and level this often


def equal_bounds(n_samples: int, max_samples: int) -> list[tuple[int, int]]:
    """The fewest equal consecutive segments of at most max_samples."""
    count = max(1, math.ceil(n_samples / max_samples))
    edges = [round(i * n_samples / count) for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def dialog_recording(rows: pd.DataFrame, read_audio) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The utterances at their start times; their sample spans.

    Between them, room tone at the utterances' own noise floor (the RMS of their first 20 ms):
    a real recording is never digitally silent, and exact zeros would skew the log-mel
    features' per-segment normalisation."""
    offset = rows["start"].min() - 1.0  # one second before the first
    spans, pieces = [], []
    for row in rows.sort_values("start").itertuples():
        audio = read_audio(row.audio_path)
        start = int(round((row.start - offset) * RATE))
        start = max(start, spans[-1][1] if spans else 0)  # utterances never overlap here
        spans.append((start, start + len(audio)))
        pieces.append((start, audio))
    floor = np.median([np.sqrt(np.mean(np.square(a[: RATE // 50]))) for _, a in pieces])
    rng = np.random.default_rng(0)
    recording = (floor * rng.standard_normal(spans[-1][1] + RATE)).astype(np.float32)
    for start, audio in pieces:
        recording[start : start + len(audio)] = audio
    return recording, spans


def add_noise(recording, spans, noise: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """`noise` looped over the whole recording at `snr_db` below the utterances' power."""
    from asrser.data.mixing import draw_offset, loop_or_cut, signal_power

    speech_power = np.mean([signal_power(recording[a:b]) for a, b in spans])
    rng = np.random.default_rng(seed)
    noise = loop_or_cut(noise, len(recording), draw_offset(rng, len(noise), len(recording)))
    gain = np.sqrt(speech_power / (signal_power(noise) * 10 ** (snr_db / 10)))
    return (recording + gain * noise).astype(np.float32)


def changing_background(noises: list[np.ndarray], n_samples: int, first: int) -> np.ndarray:
    """The noise files in turn, SWITCH_SECONDS of each (from file `first` on), n_samples long:
    a background that changes level and kind, as a fan switched on or a door opened."""
    from asrser.data.mixing import loop_or_cut, signal_power

    switch = int(SWITCH_SECONDS * RATE)
    unit = [noise / np.sqrt(signal_power(noise)) for noise in noises]  # each at power 1
    chunks = [
        loop_or_cut(unit[(first + i) % len(unit)], switch, 0)
        * 10 ** (((first + i) % 3 - 1) * 10 / 20)  # -10, 0, +10 dB in turn
        for i in range(-(-n_samples // switch))
    ]
    return np.concatenate(chunks)[:n_samples].astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="asr-clean", help="results/models/<model>/<fold>")
    parser.add_argument("--max-segment-seconds", type=float, default=20.0)
    parser.add_argument("--snr-db", nargs="+", default=["none", "15", "5"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--noise-type",
        default="noise",
        choices=("noise", "music", "speech"),
        help="the MUSAN type of the test-pool files mixed in (speech: a background talker)",
    )
    parser.add_argument(
        "--cutting",
        nargs="+",
        default=["utterances", "pauses", "foreground", "quietest", "equal"],
        choices=("utterances", "pauses", "foreground", "quietest", "equal"),
    )
    parser.add_argument("--foreground-db", type=float, default=10.0)
    parser.add_argument(
        "--changing-background",
        action="store_true",
        help=f"the --noise-type files in turn, {SWITCH_SECONDS:g} s each at -10, 0 and +10 dB "
        "in turn around the --snr-db, instead of one file per recording",
    )
    args = parser.parse_args()
    os.chdir(ROOT)  # the demo's manifests hold paths relative to the repository root
    manifest_path, musan_path = Path("results/data/iemocap.csv"), Path("results/data/musan.csv")
    models = Path("results/models") / args.model
    if not (manifest_path.is_file() and musan_path.is_file() and models.is_dir()):
        print(f"SKIPPED: {manifest_path}, {musan_path} or {models} is missing: run `make demo`")
        return

    import torch

    from asrser.data.audio import read_audio
    from asrser.data.segmentation import segment_bounds
    from asrser.evaluation.evaluate import predict_waveforms
    from asrser.evaluation.metrics import word_error_counts
    from asrser.models.model_io import load_model
    from asrser.runtime.device import set_cpu_threads

    set_cpu_threads(args.threads)
    manifest = pd.read_csv(manifest_path)
    musan = pd.read_csv(musan_path)
    test_pool = musan[musan["pool"] == "test"]
    noise_files = test_pool[test_pool["type"] == args.noise_type]["audio_path"]
    # One kind of background per recording, as in a call (the test pool's files in turn).
    noises = [read_audio(p) for p in noise_files]
    limit = int(args.max_segment_seconds * RATE)
    strategies = {
        "utterances": lambda audio, spans: spans,
        "pauses": lambda audio, spans: segment_bounds(audio, limit, RATE),
        "foreground": lambda audio, spans: segment_bounds(
            audio, limit, RATE, foreground_db=args.foreground_db
        ),
        "quietest": lambda audio, spans: segment_bounds(audio, limit, RATE, None),
        "equal": lambda audio, spans: equal_bounds(len(audio), limit),
    }
    strategies = {name: strategies[name] for name in args.cutting}
    device = torch.device("cpu")
    hypotheses = {(snr, name): [] for snr in args.snr_db for name in strategies}
    segments = dict.fromkeys(hypotheses, 0)
    split_utterances = dict.fromkeys(hypotheses, 0)
    merged_utterances = dict.fromkeys(hypotheses, 0)
    correct_emotions = dict.fromkeys(hypotheses, 0)
    references, emotions = [], 0
    for fold, speaker_rows in manifest.groupby("speaker"):
        model, processor = load_model(models / fold / "model", device=device)
        for _, rows in speaker_rows.groupby("dialog"):
            number = len(references)
            clean, spans = dialog_recording(rows, read_audio)
            rows = rows.sort_values("start")
            references.append(" ".join(rows["transcript"]))
            emotions += len(rows)
            for snr in args.snr_db:
                noise = (
                    changing_background(noises, len(clean), number)
                    if args.changing_background
                    else noises[number % len(noises)]
                )
                recording = (
                    clean if snr == "none" else add_noise(clean, spans, noise, float(snr), number)
                )
                for name, cutter in strategies.items():
                    bounds = cutter(recording, spans)
                    pieces = [recording[a:b] for a, b in bounds]
                    texts, probs = predict_waveforms(
                        model,
                        processor,
                        pieces.__getitem__,
                        [len(p) / RATE for p in pieces],
                        device,
                        60.0,
                        desc=f"{fold} {snr} {name}",
                    )
                    hypotheses[snr, name].append(" ".join(t for t in texts if t))
                    segments[snr, name] += len(bounds)
                    # Overlap of each utterance (row) with each segment (column).
                    overlap = np.array(
                        [
                            [max(0, min(b, end) - max(a, start)) for start, end in bounds]
                            for a, b in spans
                        ]
                    )
                    split_utterances[snr, name] += int(((overlap > 0).sum(axis=1) > 1).sum())
                    # Utterances whose main segment holds most of another utterance too.
                    main_segment = overlap.argmax(axis=1)
                    merged_utterances[snr, name] += int(
                        (np.bincount(main_segment, minlength=len(bounds))[main_segment] > 1).sum()
                    )
                    if probs is not None:  # each utterance judged by the segment most of it is in
                        predicted = probs.argmax(axis=1)[overlap.argmax(axis=1)]
                        labels = [model.config.emotions.index(e) for e in rows["emotion"]]
                        correct_emotions[snr, name] += int(
                            ((predicted == labels) & (overlap.max(axis=1) > 0)).sum()
                        )
    print(
        f"{len(references)} recordings ({sum(len(r.split()) for r in references)} words), "
        f"model {args.model} of each one's held-out speaker, segments <= "
        f"{args.max_segment_seconds:g} s"
    )
    background = "changing " if args.changing_background else ""
    print(f"background: {background}{args.noise_type} (MUSAN test pool)")
    print("SNR dB  cutting     segments  utterances split  merged  WER    emotion accuracy")
    for (snr, name), texts in hypotheses.items():
        wer = word_error_counts(references, texts).wer if any(texts) else math.nan
        accuracy = (
            correct_emotions[snr, name] / emotions if model.config.model != "asr" else math.nan
        )
        print(
            f"{snr:>6s}  {name:10s}  {segments[snr, name]:8d}  "
            f"{split_utterances[snr, name]:16d}  {merged_utterances[snr, name]:6d}  "
            f"{wer:.3f}  {accuracy:.3f}"
        )


if __name__ == "__main__":
    main()
