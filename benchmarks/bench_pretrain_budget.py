"""The demo encoder's WER against its pretraining step budget and against its pretraining text.

For each --steps budget, pretrains the demo encoder (asrser.training.pretrain.pretrain with the `pretrain`
settings of config/config.yaml, only max_steps changed) on the demo's pretraining corpus, then
greedy-decodes the ten demo speakers' clean corpus with it (asrser.evaluation.start_encoder), and prints the
minutes, the held-out WER and the demo speakers' WER and CER. The issue's target is demo WER 0.20
after at most 6 minutes of pretraining; this shows how far more steps would go.

--demo-text first writes a pretraining corpus of the same size, seed and voices whose sentences come
from the *demo's* bank (its templates and word lists) instead of the pretraining bank: a diagnostic
bound on what the pretraining text alone can give, not something the pipeline may do (the
pretrained encoder must not have read the demo's sentences).

Needs the demo's corpora (`make demo`; without them it prints SKIPPED). Not a test; about 7 minutes
per 4200 steps on one thread here.

    .venv/bin/python benchmarks/bench_pretrain_budget.py [--steps 4200 16800] [--threads 1]
    .venv/bin/python benchmarks/bench_pretrain_budget.py --demo-text
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
EMOTIONS = ("ang", "hap", "sad", "neu")


def demo_bank_sentence(rng: np.random.Generator) -> str:
    from asrser.synthesis.text_bank import demo_sentence

    return demo_sentence(EMOTIONS[int(rng.integers(len(EMOTIONS)))], rng)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[4200])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--config", default=ROOT / "config/config.yaml")
    parser.add_argument("--corpus", default=ROOT / "resources/synthetic/pretrain")
    parser.add_argument("--demo-manifest", default=ROOT / "results/data/corpora/clean.csv")
    parser.add_argument("--demo-text", action="store_true")
    parser.add_argument("--out", help="keep the encoders here (default: a temporary folder)")
    args = parser.parse_args()
    for name in ("config", "corpus", "demo_manifest", "out"):
        if getattr(args, name):
            setattr(args, name, Path(getattr(args, name)).resolve())
    # The demo's manifests hold audio paths relative to the repository root.
    os.chdir(ROOT)

    from asrser.common.io import write_json
    from asrser.evaluation.start_encoder import score_start_encoder
    from asrser.synthesis import write_pretrain_corpus
    from asrser.training.pretrain import pretrain
    from asrser.training.settings import PretrainConfig

    logging.basicConfig(level=logging.WARNING)
    config = yaml.safe_load(Path(args.config).read_text())
    for needed in (Path(args.corpus) / "manifest.csv", Path(args.demo_manifest)):
        if not needed.exists():
            print(f"SKIPPED: {needed} is missing (the demo's corpora): run `make demo` first")
            return
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(args.out or scratch)
        corpus = Path(args.corpus)
        if args.demo_text:
            synthetic = config["synthetic"]
            corpus = out / "corpus_demo_text"
            write_pretrain_corpus(
                corpus,
                seed=synthetic["seed"],
                n_utterances=synthetic["pretrain_utterances"],
                processes=args.threads,
                sentence=demo_bank_sentence,
            )
        text = "demo bank" if args.demo_text else "pretraining bank"
        print(f"pretraining text: {text} ({corpus}); demo speakers: {args.demo_manifest}")
        print("steps  minutes  held-out WER  demo WER  demo CER")
        for steps in args.steps:
            folder = out / f"steps{steps}"
            started = time.perf_counter()
            result = pretrain(
                corpus,
                folder / "encoder",
                PretrainConfig.from_dict({**config["pretrain"], "max_steps": steps}),
                threads=args.threads,
                device="cpu",
                checkpoint_dir=folder / "checkpoints",
            )
            minutes = (time.perf_counter() - started) / 60
            scores = score_start_encoder(
                str(folder / "encoder"),
                args.demo_manifest,
                folder / "demo_predictions.csv",
                folder / "demo_metrics.json",
                device="cpu",
                threads=args.threads,
            )
            print(
                f"{steps:5d}  {minutes:7.1f}  {result.held_out_wer:12.3f}  "
                f"{scores['wer']:8.3f}  {scores['cer']:8.3f}",
                flush=True,
            )
            write_json(
                folder / "summary.json",
                {
                    "steps": steps,
                    "minutes": minutes,
                    "text": text,
                    "held_out_wer": result.held_out_wer,
                },
            )


if __name__ == "__main__":
    main()
