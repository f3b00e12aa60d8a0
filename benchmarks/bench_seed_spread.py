"""How much the joint model's gains move with the training seed, on a finished multi-seed run.

Reads the evaluation predictions of a run trained with several seeds (train.seeds) and prints,
per training condition and per seed, the joint model's gain over each baseline, pooled over the
folds: accuracy (joint - SER baseline, points) and WER (ASR baseline - joint, points; positive
means fewer errors), on clean test speech and on the six noisy test conditions pooled (each
utterance of each condition counts once). Then the mean, the SD across seeds (n - 1) and the
min-max. The seeds are paired by index (seed s of the joint model against seed s of the
baseline); results/tables/significance.csv holds the test over all pairings and utterances.

    .venv/bin/python benchmarks/bench_seed_spread.py [--results results]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from asrser.report.aggregate import load_predictions, score_predictions

GAINS = {  # gain name -> (baseline model, metric, sign: + when joint minus baseline is better)
    "accuracy, joint - SER (pts)": ("ser", "wa", 1.0),
    "WER, ASR - joint (pts)": ("asr", "wer", -1.0),
}


def seed_gains(predictions: pd.DataFrame) -> pd.DataFrame:
    """One row per (train, speech, seed) with each gain of GAINS in points; main runs only."""
    main = predictions[predictions["alpha"].isna()].copy()
    main["speech"] = np.where(main["condition"] == "clean", "clean", "noisy (pooled)")
    rows = []
    for (train, speech, seed), group in main.groupby(["train", "speech", "seed"], sort=True):
        scores = {model: score_predictions(frame, model) for model, frame in group.groupby("model")}
        row = {"train": train, "speech": speech, "seed": int(seed)}
        for name, (baseline, metric, sign) in GAINS.items():
            if "joint" in scores and baseline in scores:
                difference = scores["joint"][metric] - scores[baseline][metric]
                row[name] = 100.0 * sign * difference
        rows.append(row)
    return pd.DataFrame(rows)


def spread(gains: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD (n - 1), min and max over seeds of each gain, per (train, speech)."""
    columns = [name for name in GAINS if name in gains.columns]
    summary = gains.groupby(["train", "speech"])[columns].agg(["mean", "std", "min", "max"])
    summary.insert(0, ("seeds", ""), gains.groupby(["train", "speech"])["seed"].nunique())
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", default="results", help="the run's results folder")
    args = parser.parse_args()
    paths = sorted(Path(args.results, "eval").glob("*/*/*/predictions.csv"))
    if not paths:
        raise SystemExit(f"no predictions under {args.results}/eval: run the workflow first")
    gains = seed_gains(load_predictions(paths))
    with pd.option_context("display.width", 160, "display.precision", 2):
        print("per seed:")
        print(gains.to_string(index=False))
        print("\nover seeds (mean, SD, min, max):")
        print(spread(gains).to_string())


if __name__ == "__main__":
    main()
