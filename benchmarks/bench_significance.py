"""The paired significance tests at the paper's size: 5,531 utterances, 10,000 resamples.

Prints the seconds one WER cell (paired bootstrap) and one accuracy cell (McNemar + bootstrap
CI) take, and what the aggregate step's 28 cells cost. The aggregate job runs them once per study.

    .venv/bin/python benchmarks/bench_significance.py [--utterances 5531] [--resamples 10000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from asrser.stats import compare_accuracy, paired_bootstrap_wer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=5531)
    parser.add_argument("--resamples", type=int, default=10_000)
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


if __name__ == "__main__":
    main()
