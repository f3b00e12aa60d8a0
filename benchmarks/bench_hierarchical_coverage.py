"""Coverage of the joint-vs-baseline confidence interval when training seeds matter.

Simulates studies with a known truth: two models classify the same n test utterances; an
utterance's difficulty is shared by both models (the pairing), and each training seed shifts a
model's log-odds of being right by a seed effect of SD --seed-sd (what a second seed, or a second
machine, changes). The target is the difference in expected accuracy over utterances and seeds.
For each number of seeds per model it prints how often the 95 % interval of
`asrser.report.hierarchical_bootstrap` contains the target, and how often a test at 0.05 calls a
difference of zero significant (--effect 0). With one seed the interval is the paired bootstrap
over utterances alone: it cannot see the seed effect and covers the target too rarely.

    .venv/bin/python benchmarks/bench_hierarchical_coverage.py [--studies 200] [--seeds 1 3 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from asrser.report.hierarchical_bootstrap import Series, hierarchical_compare


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _expected_accuracy(logit: float, seed_shifts: np.ndarray, difficulties: np.ndarray) -> float:
    """E over seeds and utterances of P(right), on a large Monte Carlo grid (the same grid for
    both models, so their difference carries no Monte Carlo noise when they are equal)."""
    return float(_sigmoid(logit + seed_shifts[:, None] + difficulties[None, :]).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=200)
    parser.add_argument("--utterances", type=int, default=500)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 3, 5])
    parser.add_argument("--seed-sd", type=float, default=0.15, help="SD of a seed's log-odds shift")
    parser.add_argument("--utterance-sd", type=float, default=1.5)
    parser.add_argument(
        "--effect", type=float, default=0.1, help="log-odds gain of the joint model"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    base_logit = 0.3  # about 57 % accuracy
    grid = rng.normal(0.0, args.seed_sd, 2000), rng.normal(0.0, args.utterance_sd, 4000)
    target = _expected_accuracy(base_logit + args.effect, *grid) - _expected_accuracy(
        base_logit, *grid
    )
    print(
        f"{args.studies} studies, {args.utterances} utterances, {args.resamples} resamples; "
        f"seed SD {args.seed_sd} and utterance SD {args.utterance_sd} (log-odds); "
        f"true accuracy difference {100 * target:+.2f} points"
    )
    ones = np.ones(args.utterances)
    for n_seeds in args.seeds:
        started = time.perf_counter()
        covered = significant = 0
        for study in range(args.studies):
            difficulty = rng.normal(0.0, args.utterance_sd, args.utterances)
            runs = []
            for shift in (0.0, args.effect):
                seeds = rng.normal(0.0, args.seed_sd, (n_seeds, 1))
                p = _sigmoid(base_logit + shift + seeds + difficulty[None, :])
                runs.append(Series((rng.random(p.shape) < p).astype(float), ones))
            result = hierarchical_compare(
                *runs, "accuracy", n_resamples=args.resamples, seed=study, confidence=0.95
            )
            covered += result.ci_low <= target <= result.ci_high
            significant += result.p_value < 0.05
        seconds = time.perf_counter() - started
        print(
            f"  {n_seeds:2d} seed{'s' if n_seeds > 1 else ' '} per model: 95 % CI covers the "
            f"truth in {100 * covered / args.studies:5.1f} % of studies; p < 0.05 in "
            f"{100 * significant / args.studies:5.1f} % ({seconds:.1f} s)"
        )


if __name__ == "__main__":
    main()
