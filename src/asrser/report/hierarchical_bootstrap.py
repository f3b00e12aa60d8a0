"""Hierarchical bootstrap over training seeds and test utterances.

A figure of the study (a pooled WER, an accuracy) varies for two reasons: the test utterances are
one sample of speech, and a training run is one draw of the training randomness (initialisation,
batch order, dropout), fixed by its seed. With several seeds per model, a run's figure is the mean
over its seeds of the figure pooled over the utterances (the folds pooled, as in the paper), and
its uncertainty comes from a two-level bootstrap (Saravanan, Berman & Sober 2020, "Application of
the hierarchical bootstrap to multi-level data in neuroscience", Neurons, Behavior, Data Analysis
and Theory 3(5)). Each resample

  1. draws one multiset of n utterances with replacement, shared by every run compared: all runs
     were scored on the same utterances, so an utterance's outcomes stay together (the pairing of
     the one-seed paired bootstrap, Bisani & Ney 2004);
  2. draws each run's seeds with replacement, independently per run: seed i of the SER baseline
     and seed i of the joint model are unrelated trainings, so seeds are not paired;
  3. takes, for each run, the mean over its drawn seeds of the figure pooled over the drawn
     utterances (errors and reference words summed before dividing, as in the pooled WER).

Seeds and utterances are crossed rather than nested (every seed is scored on every utterance),
so step 1 draws the utterances once per resample for all seeds, the row-and-column resampling of
Owen (2007, "The pigeonhole bootstrap", Annals of Applied Statistics 1(2)), rather than once per
drawn seed as in a strictly nested hierarchy. With one seed per run the seed level is trivial and
the procedure is the paired bootstrap over utterances of `asrser.report.stats.paired_bootstrap_wer`, draw
for draw (the utterance draws come from the same generator, in the same chunks; each run's seed
draws from a child generator of its own).

CIs are percentile intervals; the two-sided p-value is `asrser.report.stats`'s rule (twice the share of
resamples on the other side of zero, add-one smoothed). With few seeds the seed level is coarse:
n seeds give at most C(2n-1, n) distinct draws, and on its own the bootstrap variance of a mean
over n seeds is (n - 1)/n of the usual estimate s^2/n. Each seed's figure also carries the
utterance noise, which the seed draw counts a second time, and that errs the other way (Owen
finds the row-and-column bootstrap mildly conservative). benchmarks/bench_hierarchical_coverage.py
measures the net coverage on simulated studies with a known truth; with one seed the interval
cannot see the seed effect at all. The tables state the number of seeds and the spread across
them (SD with n - 1, min-max) beside every interval; see Bouthillier et al. (2021, "Accounting
for Variance in Machine Learning Benchmarks", MLSys) on how much seeds move benchmark results.

Vectorised: the utterance draws of a chunk of resamples become a (chunk, n) count matrix, and one
matrix product with the (n, columns) outcome table sums every run's every seed at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from asrser.report.stats import (
    RESAMPLE_CHUNK,
    check_resampling,
    percentile_ci,
    two_sided_bootstrap_p,
)

METRICS = ("wer", "accuracy")  # lower is better for WER, higher for accuracy
REFERENCE = (
    "Saravanan, V., Berman, G. J. & Sober, S. J. (2020). Application of the hierarchical "
    "bootstrap to multi-level data in neuroscience. Neurons, Behavior, Data Analysis and "
    "Theory 3(5)."
)


@dataclass(frozen=True, eq=False)
class Series:
    """One run's outcomes on one test set: a row per training seed, a column per utterance.

    numerators: word errors (WER) or 1/0 correct (accuracy) of each seed on each utterance;
    denominators: reference words (WER) or 1 (accuracy) of each utterance, the same for every seed.
    A seed's figure is sum(numerators[seed]) / sum(denominators); the run's is the mean over seeds.
    """

    numerators: np.ndarray
    denominators: np.ndarray

    def __post_init__(self):
        numerators = np.asarray(self.numerators, dtype=np.float64)
        denominators = np.asarray(self.denominators, dtype=np.float64)
        if numerators.ndim != 2 or numerators.shape[0] < 1:
            raise ValueError(
                f"numerators must be (seeds, utterances) with at least one seed, "
                f"got shape {numerators.shape}"
            )
        if denominators.shape != (numerators.shape[1],):
            raise ValueError(
                f"denominators must hold one value per utterance ({numerators.shape[1]}), "
                f"got shape {denominators.shape}"
            )
        for name, values in (("numerators", numerators), ("denominators", denominators)):
            if not np.isfinite(values).all() or (values < 0).any():
                raise ValueError(f"{name} must be finite and non-negative")
        if denominators.sum() <= 0:
            raise ValueError("a series needs utterances with a positive denominator (words)")
        object.__setattr__(self, "numerators", numerators)
        object.__setattr__(self, "denominators", denominators)

    @property
    def n_seeds(self) -> int:
        return self.numerators.shape[0]

    @property
    def n_utts(self) -> int:
        return self.numerators.shape[1]

    @property
    def per_seed(self) -> np.ndarray:
        """Each seed's pooled figure."""
        return self.numerators.sum(axis=1) / self.denominators.sum()

    @property
    def statistic(self) -> float:
        """The mean over seeds of the pooled figure."""
        return float(self.per_seed.mean())


def _utterance_counts(idx: np.ndarray, n: int) -> np.ndarray:
    """How often each utterance was drawn in each resample: (chunk, n) from (chunk, n) indices."""
    rows = idx.shape[0]
    flat = (idx + np.arange(rows)[:, None] * n).ravel()
    return np.bincount(flat, minlength=rows * n).reshape(rows, n).astype(np.float64)


def _seed_level_rng(seed: int | np.random.SeedSequence, key: int) -> np.random.Generator:
    """The generator of one series' seed draws: a child of `seed` named by the series' key, so a
    series' draws do not depend on which other series are resampled with it."""
    base = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    child = np.random.SeedSequence(base.entropy, spawn_key=(*base.spawn_key, int(key)))
    return np.random.default_rng(child)


def bootstrap_series(
    series: Sequence[Series],
    n_resamples: int = 10_000,
    seed: int | np.random.SeedSequence = 0,
    keys: Sequence[int] | None = None,
) -> np.ndarray:
    """(n_resamples, len(series)) replicates of each series' statistic, from shared utterance
    draws and independent seed draws (see the module docstring).

    The utterance draws come from `seed` alone; series j's seed draws from a child of `seed`
    named by keys[j] (default j). Give each run a stable key and its replicates stay the same
    whichever other runs are resampled beside it.
    """
    series = list(series)
    if not series:
        raise ValueError("bootstrap_series needs at least one series")
    keys = list(range(len(series))) if keys is None else [int(k) for k in keys]
    if len(keys) != len(series) or len(set(keys)) != len(keys) or min(keys) < 0:
        raise ValueError(f"keys must be distinct non-negative integers, one per series: {keys}")
    n = series[0].n_utts
    if any(s.n_utts != n for s in series):
        raise ValueError(
            "every series must hold the same utterances in the same order, got lengths "
            f"{[s.n_utts for s in series]}"
        )
    check_resampling(n_resamples, 0.5)
    n_resamples = int(n_resamples)
    rng = np.random.default_rng(seed)
    # One table of columns: each series' seeds, then its denominators.
    blocks, slices, start = [], [], 0
    for s in series:
        blocks += [s.numerators.T, s.denominators[:, None]]
        slices.append((start, start + s.n_seeds))
        start += s.n_seeds + 1
    table = np.hstack(blocks)
    sums = np.empty((n_resamples, table.shape[1]))
    for first in range(0, n_resamples, RESAMPLE_CHUNK):
        last = min(first + RESAMPLE_CHUNK, n_resamples)
        idx = rng.integers(0, n, size=(last - first, n))
        sums[first:last] = _utterance_counts(idx, n) @ table
    replicates = np.empty((n_resamples, len(series)))
    with np.errstate(divide="ignore", invalid="ignore"):
        for j, (s, (low, high)) in enumerate(zip(series, slices, strict=True)):
            figures = sums[:, low:high] / sums[:, high : high + 1]  # (resamples, seeds)
            drawn = _seed_level_rng(seed, keys[j]).integers(
                0, s.n_seeds, size=(n_resamples, s.n_seeds)
            )
            replicates[:, j] = np.take_along_axis(figures, drawn, axis=1).mean(axis=1)
    return replicates


@dataclass(frozen=True)
class SeriesSummary:
    """One run's figure over seeds: mean, spread across seeds, bootstrap CI (fractions)."""

    n_seeds: int
    n_utts: int
    mean: float
    sd: float  # across seeds, n - 1 denominator; NaN with one seed
    min: float
    max: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict:
        return asdict(self)


def _sd(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1)) if values.size > 1 else float("nan")


def summarise_series(series: Series, replicates: np.ndarray, confidence: float) -> SeriesSummary:
    """Mean, SD, min-max across seeds and the percentile CI of `replicates` (its bootstrap)."""
    per_seed = series.per_seed
    low, high = percentile_ci(np.asarray(replicates, dtype=float), confidence)
    return SeriesSummary(
        n_seeds=series.n_seeds,
        n_utts=series.n_utts,
        mean=series.statistic,
        sd=_sd(per_seed),
        min=float(per_seed.min()),
        max=float(per_seed.max()),
        ci_low=low,
        ci_high=high,
    )


@dataclass(frozen=True)
class SeedComparison:
    """A candidate run (the joint model) against a baseline run on the same utterances.

    delta > 0 means the candidate is better: WER delta = baseline - candidate (relative_delta =
    delta / baseline); accuracy delta = candidate - baseline (relative_delta NaN). `pair_delta_min`
    and `pair_delta_max` bound the delta of one baseline seed against one candidate seed over all
    n_baseline x n_candidate pairings: whether the sign of a gain depends on the seeds drawn.
    """

    metric: str
    n_utts: int
    baseline: SeriesSummary
    candidate: SeriesSummary
    delta: float
    relative_delta: float
    ci_low: float
    ci_high: float
    relative_ci_low: float
    relative_ci_high: float
    pair_delta_min: float
    pair_delta_max: float
    p_value: float
    prob_improvement: float
    n_resamples: int
    confidence: float


def compare_series(
    baseline: Series,
    candidate: Series,
    replicates: np.ndarray,
    metric: str,
    confidence: float = 0.95,
) -> SeedComparison:
    """Summarise a comparison from the two series' replicates, (n_resamples, 2) in that order,
    drawn together by `bootstrap_series` (shared utterance draws are what pairs them)."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    check_resampling(1, confidence)
    replicates = np.asarray(replicates, dtype=float)
    if replicates.ndim != 2 or replicates.shape[1] != 2:
        raise ValueError(f"replicates must be (n_resamples, 2), got shape {replicates.shape}")
    if baseline.n_utts != candidate.n_utts:
        raise ValueError("baseline and candidate must hold the same utterances")
    sign = 1.0 if metric == "wer" else -1.0  # positive delta = candidate better
    base, cand = baseline.statistic, candidate.statistic
    delta = sign * (base - cand)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta_b = sign * (replicates[:, 0] - replicates[:, 1])
        relative_b = delta_b / replicates[:, 0]
    relative = delta / base if metric == "wer" and base > 0 else float("nan")
    rel_low, rel_high = (
        percentile_ci(relative_b, confidence) if metric == "wer" else (float("nan"),) * 2
    )
    pairs = sign * (baseline.per_seed[:, None] - candidate.per_seed[None, :])
    finite = delta_b[np.isfinite(delta_b)]
    ci_low, ci_high = percentile_ci(delta_b, confidence)
    return SeedComparison(
        metric=metric,
        n_utts=baseline.n_utts,
        baseline=summarise_series(baseline, replicates[:, 0], confidence),
        candidate=summarise_series(candidate, replicates[:, 1], confidence),
        delta=float(delta),
        relative_delta=float(relative),
        ci_low=ci_low,
        ci_high=ci_high,
        relative_ci_low=rel_low,
        relative_ci_high=rel_high,
        pair_delta_min=float(pairs.min()),
        pair_delta_max=float(pairs.max()),
        p_value=two_sided_bootstrap_p(float(delta), delta_b),
        prob_improvement=float(np.mean(finite > 0)) if finite.size else float("nan"),
        n_resamples=int(replicates.shape[0]),
        confidence=float(confidence),
    )


def hierarchical_compare(
    baseline: Series,
    candidate: Series,
    metric: str,
    n_resamples: int = 10_000,
    seed: int | np.random.SeedSequence = 0,
    confidence: float = 0.95,
) -> SeedComparison:
    """Hierarchical bootstrap comparison of two runs on the same utterances."""
    check_resampling(n_resamples, confidence)
    replicates = bootstrap_series([baseline, candidate], n_resamples, seed)
    return compare_series(baseline, candidate, replicates, metric, confidence)
