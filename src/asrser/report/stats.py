"""Significance of joint-vs-baseline differences on the same test utterances.

Both tests are paired: the two systems scored the same utterances, so resampling (or counting)
keeps each utterance's pair of outcomes together. Every difference is signed so that a positive
value means the joint model is better:
  - WER:      delta = baseline WER - joint WER          (relative: delta / baseline WER)
  - accuracy: delta = joint accuracy - baseline accuracy

WER: paired bootstrap over utterances (Bisani & Ney, 2004). Each resample draws n utterances with
replacement, sums errors and reference words over the drawn utterances for both systems and
computes the pooled WERs, so long utterances weigh as they do in the pooled WER itself. The CI is
the percentile interval of the resampled deltas. The two-sided p-value is twice the share of
resamples whose delta lies on the other side of zero from the observed delta (ties counted there
too), with add-one smoothing, (k + 1) / (B + 1), so a finite number of resamples never claims
p = 0; capped at 1. Bisani & Ney's "probability of improvement" (share of resamples with the joint
model better) is returned as well.

Accuracy: exact McNemar test, i.e. a two-sided binomial test (scipy.stats.binomtest, p = 0.5) on
the discordant pairs (utterances exactly one system classifies correctly), plus a paired bootstrap
percentile CI of the accuracy difference.

Resampling is vectorised in fixed-size chunks of index draws from a seeded numpy Generator, so a
result depends only on the data, the seed and the number of resamples.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import binomtest

RESAMPLE_CHUNK = (
    256  # resamples per vectorised block: bounds memory at ~RESAMPLE_CHUNK * n * 8 bytes
)


def _as_1d(values, name: str, dtype) -> np.ndarray:
    array = np.asarray(values, dtype=dtype)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def check_resampling(n_resamples: int, confidence: float) -> None:
    if int(n_resamples) < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


def _resampled_sums(columns: np.ndarray, n_resamples: int, seed) -> np.ndarray:
    """Sum each column over n_resamples bootstrap draws of the rows: (n_resamples, n_columns)."""
    rng = np.random.default_rng(seed)
    n = columns.shape[0]
    sums = np.empty((n_resamples, columns.shape[1]), dtype=columns.dtype)
    for start in range(0, n_resamples, RESAMPLE_CHUNK):
        stop = min(start + RESAMPLE_CHUNK, n_resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        for j in range(columns.shape[1]):
            sums[start:stop, j] = columns[idx, j].sum(axis=1)
    return sums


def percentile_ci(values: np.ndarray, confidence: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def two_sided_bootstrap_p(observed: float, resampled: np.ndarray) -> float:
    resampled = resampled[np.isfinite(resampled)]
    if not np.isfinite(observed) or observed == 0.0 or resampled.size == 0:
        return 1.0
    opposite = (
        np.count_nonzero(resampled <= 0) if observed > 0 else np.count_nonzero(resampled >= 0)
    )
    return float(min(1.0, 2.0 * (opposite + 1) / (resampled.size + 1)))


@dataclass(frozen=True)
class WerBootstrap:
    """Paired bootstrap of a WER difference; WERs and deltas are fractions (0.15 = 15 %)."""

    n_utts: int
    ref_words: int
    baseline_wer: float
    joint_wer: float
    delta: float  # baseline - joint: positive = joint better
    relative_delta: float  # delta / baseline WER
    ci_low: float
    ci_high: float
    relative_ci_low: float
    relative_ci_high: float
    p_value: float
    prob_improvement: float  # share of resamples with joint better (Bisani & Ney's POI)
    n_resamples: int
    confidence: float

    def as_dict(self) -> dict:
        return asdict(self)


def paired_bootstrap_wer(
    baseline_errors,
    joint_errors,
    ref_words,
    n_resamples: int = 10_000,
    seed: int | np.random.SeedSequence = 0,
    confidence: float = 0.95,
) -> WerBootstrap:
    """Paired bootstrap over utterances of baseline-minus-joint pooled WER.

    The three arrays hold per-utterance counts for the same utterances in the same order
    (see `asrser.evaluation.metrics.utterance_error_counts`).
    """
    check_resampling(n_resamples, confidence)
    base = _as_1d(baseline_errors, "baseline_errors", np.int64)
    joint = _as_1d(joint_errors, "joint_errors", np.int64)
    words = _as_1d(ref_words, "ref_words", np.int64)
    if not base.size == joint.size == words.size:
        raise ValueError(
            f"per-utterance arrays differ in length: baseline {base.size}, joint {joint.size}, "
            f"reference words {words.size}"
        )
    if base.size == 0 or words.sum() == 0:
        raise ValueError("paired WER bootstrap needs utterances with at least one reference word")
    if (base < 0).any() or (joint < 0).any() or (words < 0).any():
        raise ValueError("error and word counts must be non-negative")

    total_words = int(words.sum())
    baseline_wer = base.sum() / total_words
    joint_wer = joint.sum() / total_words
    delta = baseline_wer - joint_wer
    relative = delta / baseline_wer if baseline_wer > 0 else float("nan")

    sums = _resampled_sums(np.stack([base, joint, words], axis=1), int(n_resamples), seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        base_b = sums[:, 0] / sums[:, 2]
        joint_b = sums[:, 1] / sums[:, 2]
        delta_b = base_b - joint_b
        relative_b = delta_b / base_b
    ci_low, ci_high = percentile_ci(delta_b, confidence)
    rel_low, rel_high = percentile_ci(relative_b, confidence)
    finite = delta_b[np.isfinite(delta_b)]
    return WerBootstrap(
        n_utts=int(base.size),
        ref_words=total_words,
        baseline_wer=float(baseline_wer),
        joint_wer=float(joint_wer),
        delta=float(delta),
        relative_delta=float(relative),
        ci_low=ci_low,
        ci_high=ci_high,
        relative_ci_low=rel_low,
        relative_ci_high=rel_high,
        p_value=two_sided_bootstrap_p(float(delta), delta_b),
        prob_improvement=float(np.mean(finite > 0)) if finite.size else float("nan"),
        n_resamples=int(n_resamples),
        confidence=float(confidence),
    )


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test on paired correctness."""

    baseline_only: int  # utterances only the baseline classifies correctly
    joint_only: int  # utterances only the joint model classifies correctly
    p_value: float


def mcnemar_exact(baseline_correct, joint_correct) -> McNemar:
    """Two-sided exact McNemar test: binomial test of joint_only out of the discordant pairs."""
    base = _as_1d(baseline_correct, "baseline_correct", bool)
    joint = _as_1d(joint_correct, "joint_correct", bool)
    if base.size != joint.size:
        raise ValueError(f"paired arrays differ in length: {base.size} vs {joint.size}")
    baseline_only = int(np.count_nonzero(base & ~joint))
    joint_only = int(np.count_nonzero(joint & ~base))
    discordant = baseline_only + joint_only
    p = 1.0 if discordant == 0 else float(binomtest(joint_only, discordant, 0.5).pvalue)
    return McNemar(baseline_only, joint_only, p)


@dataclass(frozen=True)
class AccuracyComparison:
    """Joint-minus-baseline accuracy (fractions) with McNemar p-value and bootstrap CI."""

    n_utts: int
    baseline_accuracy: float
    joint_accuracy: float
    delta: float  # joint - baseline: positive = joint better
    ci_low: float
    ci_high: float
    p_value: float  # exact McNemar
    baseline_only: int
    joint_only: int
    n_resamples: int
    confidence: float

    def as_dict(self) -> dict:
        return asdict(self)


def compare_accuracy(
    baseline_correct,
    joint_correct,
    n_resamples: int = 10_000,
    seed: int | np.random.SeedSequence = 0,
    confidence: float = 0.95,
) -> AccuracyComparison:
    """Exact McNemar p-value and paired bootstrap CI of joint-minus-baseline accuracy."""
    check_resampling(n_resamples, confidence)
    test = mcnemar_exact(baseline_correct, joint_correct)
    base = _as_1d(baseline_correct, "baseline_correct", bool)
    joint = _as_1d(joint_correct, "joint_correct", bool)
    if base.size == 0:
        raise ValueError("accuracy comparison needs at least one utterance")
    # Per utterance: +1 joint only right, -1 baseline only right, 0 otherwise.
    diff = joint.astype(np.int64) - base.astype(np.int64)
    sums = _resampled_sums(diff[:, None], int(n_resamples), seed)
    delta_b = sums[:, 0] / base.size
    ci_low, ci_high = percentile_ci(delta_b, confidence)
    return AccuracyComparison(
        n_utts=int(base.size),
        baseline_accuracy=float(base.mean()),
        joint_accuracy=float(joint.mean()),
        delta=float(diff.mean()),
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=test.p_value,
        baseline_only=test.baseline_only,
        joint_only=test.joint_only,
        n_resamples=int(n_resamples),
        confidence=float(confidence),
    )


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (Holm 1979): the k-th smallest is
    multiplied by (m - k + 1), made monotone, capped at 1. Table 1 tests 14 cells per task at
    once, so an unadjusted p < 0.05 in one of them is weaker evidence than it looks."""
    p = _as_1d(p_values, "p_values", float)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (len(p) - np.arange(len(p)))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted
