"""The significance tests at the paper's size: 5,531 utterances, 10,000 resamples.

Prints the seconds one WER cell (paired bootstrap) and one accuracy cell (McNemar + bootstrap
CI) take, and what the aggregate step's 28 cells cost. With --seeds N > 1 it also times the
hierarchical bootstrap over seeds and utterances as the aggregate step runs it over N seeds: one
bootstrap per test condition holding all eight runs (ASR, SER and joint model WER and accuracy,
both training conditions), seven conditions for Table 1, its cell CIs and Fig. 2; and the alpha
sweep's four bootstraps (two training conditions x clean and pooled noisy speech) over
--alphas alphas. The aggregate job runs them once per study.

    .venv/bin/python benchmarks/bench_significance.py [--utterances 5531] [--resamples 10000]
        [--seeds 3] [--alphas 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from asrser import TEST_CONDITIONS
from asrser.report.hierarchical_bootstrap import Series, bootstrap_series
from asrser.report.stats import compare_accuracy, paired_bootstrap_wer


def _runs(rng, words, n_runs: int, seeds: int) -> list[Series]:
    """Half WER series, half accuracy series, each over `seeds` seeds."""
    series = []
    for i in range(n_runs):
        if i % 2 == 0:
            series.append(Series(rng.binomial(words, 0.18, size=(seeds, words.size)), words))
        else:
            correct = (rng.random((seeds, words.size)) < 0.6).astype(float)
            series.append(Series(correct, np.ones(words.size)))
    return series


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=5531)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=3, help="training seeds per run")
    parser.add_argument("--alphas", type=int, default=5, help="alphas of the sweep")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    words = rng.integers(1, 25, args.utterances)
    base, joint = rng.binomial(words, 0.20), rng.binomial(words, 0.15)
    started = time.perf_counter()
    paired_bootstrap_wer(base, joint, words, n_resamples=args.resamples, seed=0)
    wer_s = time.perf_counter() - started
    started = time.perf_counter()
    compare_accuracy(
        rng.random(args.utterances) < 0.6,
        rng.random(args.utterances) < 0.65,
        n_resamples=args.resamples,
        seed=0,
    )
    accuracy_s = time.perf_counter() - started
    print(f"{args.utterances} utterances, {args.resamples} resamples")
    print(f"  WER cell (paired bootstrap):           {wer_s:6.2f} s")
    print(f"  accuracy cell (McNemar + bootstrap CI): {accuracy_s:6.2f} s")
    print(f"  Table 1's 28 cells:                     {14 * (wer_s + accuracy_s):6.1f} s")
    if args.seeds < 2:
        return

    runs = _runs(rng, words, 8, args.seeds)
    started = time.perf_counter()
    bootstrap_series(runs, args.resamples, seed=0)
    condition_s = time.perf_counter() - started
    # The sweep: per training condition and test set, each alpha's WER and accuracy + baselines.
    sweep = _runs(rng, words, 2 * args.alphas + 2, args.seeds)
    started = time.perf_counter()
    bootstrap_series(sweep, args.resamples, seed=0)
    sweep_s = time.perf_counter() - started
    print(f"{args.seeds} training seeds per run (hierarchical bootstrap over seeds and utterances)")
    rows = (
        ("one test condition, 8 runs", condition_s),
        ("Table 1, cell CIs, Fig. 2 (7 conditions)", len(TEST_CONDITIONS) * condition_s),
        (f"alpha sweep, {args.alphas} alphas (4 bootstraps)", 4 * sweep_s),
    )
    for label, seconds in rows:
        print(f"  {label + ':':<41}{seconds:6.2f} s")


if __name__ == "__main__":
    main()
