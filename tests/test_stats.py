"""Paired bootstrap and McNemar against hand-computed results."""

from math import comb

import numpy as np
import pytest

from asrser.report.stats import compare_accuracy, holm, mcnemar_exact, paired_bootstrap_wer


def _counts(n=400, seed=0, base_rate=0.20, joint_rate=0.15):
    rng = np.random.default_rng(seed)
    words = rng.integers(1, 25, n)
    return rng.binomial(words, base_rate), rng.binomial(words, joint_rate), words


def test_wer_bootstrap_point_estimates_pool_counts():
    base, joint, words = np.array([1, 0, 3]), np.array([0, 0, 1]), np.array([10, 1, 9])
    result = paired_bootstrap_wer(base, joint, words, n_resamples=50, seed=1)
    assert result.baseline_wer == pytest.approx(4 / 20)
    assert result.joint_wer == pytest.approx(1 / 20)
    assert result.delta == pytest.approx(3 / 20)  # baseline - joint: positive = joint better
    assert result.relative_delta == pytest.approx(0.75)
    assert result.n_utts == 3 and result.ref_words == 20


def test_wer_bootstrap_resamples_utterances_and_pools_within_each_resample():
    base, joint, words = _counts(n=50)
    n_resamples = 200  # a single vectorised chunk: the draws are one rng.integers call
    result = paired_bootstrap_wer(base, joint, words, n_resamples=n_resamples, seed=11)
    idx = np.random.default_rng(11).integers(0, 50, size=(n_resamples, 50))
    deltas = (base[idx].sum(1) - joint[idx].sum(1)) / words[idx].sum(1)
    low, high = np.percentile(deltas, [2.5, 97.5])
    assert result.ci_low == pytest.approx(low) and result.ci_high == pytest.approx(high)
    assert result.prob_improvement == pytest.approx(np.mean(deltas > 0))
    # Table 1's relative interval: each resample's delta over that resample's baseline WER.
    relative = deltas / (base[idx].sum(1) / words[idx].sum(1))
    rel_low, rel_high = np.percentile(relative, [2.5, 97.5])
    assert result.relative_ci_low == pytest.approx(rel_low)
    assert result.relative_ci_high == pytest.approx(rel_high)


def test_wer_bootstrap_is_reproducible_with_a_seed():
    base, joint, words = _counts()
    first = paired_bootstrap_wer(base, joint, words, n_resamples=1000, seed=5)
    again = paired_bootstrap_wer(base, joint, words, n_resamples=1000, seed=5)
    other = paired_bootstrap_wer(base, joint, words, n_resamples=1000, seed=6)
    assert first == again
    assert (first.ci_low, first.ci_high) != (other.ci_low, other.ci_high)


def test_wer_bootstrap_detects_a_clear_gain_and_not_a_null_one():
    base, joint, words = _counts(base_rate=0.25, joint_rate=0.15)
    clear = paired_bootstrap_wer(base, joint, words, n_resamples=2000, seed=0)
    assert clear.delta > 0 and clear.ci_low > 0 and clear.p_value < 0.01
    assert clear.p_value == pytest.approx(2 / 2001)  # no resample crosses zero: smoothed minimum
    same = paired_bootstrap_wer(base, base, words, n_resamples=2000, seed=0)
    assert same.delta == 0 and same.p_value == 1.0 and same.ci_low == same.ci_high == 0


def test_wer_bootstrap_p_value_counts_resamples_on_the_other_side_of_zero():
    base, joint, words = _counts(n=60, base_rate=0.20, joint_rate=0.17, seed=4)
    result = paired_bootstrap_wer(base, joint, words, n_resamples=200, seed=3)
    assert 0.05 < result.p_value < 1.0  # a case with resamples on both sides of zero
    idx = np.random.default_rng(3).integers(0, 60, size=(200, 60))
    deltas = (base[idx].sum(1) - joint[idx].sum(1)) / words[idx].sum(1)
    opposite = np.sum(deltas <= 0) if result.delta > 0 else np.sum(deltas >= 0)
    assert result.p_value == pytest.approx(min(1.0, 2 * (opposite + 1) / 201))


def test_wer_bootstrap_input_errors():
    with pytest.raises(ValueError, match="differ in length"):
        paired_bootstrap_wer([1, 2], [1], [3, 3])
    with pytest.raises(ValueError, match="at least one reference word"):
        paired_bootstrap_wer([1], [0], [0])
    with pytest.raises(ValueError, match="n_resamples"):
        paired_bootstrap_wer([1], [0], [2], n_resamples=0)


def test_mcnemar_exact_on_a_known_table():
    # Discordant pairs: baseline-only correct b = 1, joint-only correct c = 9 (plus 20 concordant).
    baseline = [True] * 10 + [False] * 10 + [True] * 1 + [False] * 9
    joint = [True] * 10 + [False] * 10 + [False] * 1 + [True] * 9
    result = mcnemar_exact(baseline, joint)
    assert (result.baseline_only, result.joint_only) == (1, 9)
    # Two-sided exact binomial: 2 * P(X <= 1), X ~ Bin(10, 1/2) = 2 * (1 + 10) / 1024.
    hand = 2 * (comb(10, 0) + comb(10, 1)) / 2**10
    assert result.p_value == pytest.approx(hand)
    assert hand == pytest.approx(0.021484375)


def test_mcnemar_without_or_with_balanced_discordance():
    assert mcnemar_exact([True, False], [True, False]).p_value == 1.0
    assert mcnemar_exact([True, False], [False, True]).p_value == 1.0


def test_compare_accuracy_delta_ci_and_reproducibility():
    rng = np.random.default_rng(2)
    baseline = rng.random(500) < 0.6
    joint = baseline | (rng.random(500) < 0.2)  # joint fixes some baseline errors
    result = compare_accuracy(baseline, joint, n_resamples=1000, seed=9)
    assert result.delta == pytest.approx(joint.mean() - baseline.mean())
    assert result.ci_low <= result.delta <= result.ci_high
    assert result.ci_low > 0 and result.p_value < 1e-6
    assert result.baseline_only == 0 and result.joint_only == int((joint & ~baseline).sum())
    assert compare_accuracy(baseline, joint, n_resamples=1000, seed=9) == result


def test_compare_accuracy_ci_is_the_percentile_interval_of_resampled_deltas():
    rng = np.random.default_rng(3)
    baseline = rng.random(80) < 0.6
    joint = rng.random(80) < 0.65
    result = compare_accuracy(baseline, joint, n_resamples=200, seed=4, confidence=0.9)
    idx = np.random.default_rng(4).integers(0, 80, size=(200, 80))
    deltas = joint[idx].mean(1) - baseline[idx].mean(1)
    low, high = np.percentile(deltas, [5.0, 95.0])
    assert result.ci_low == pytest.approx(low) and result.ci_high == pytest.approx(high)


def test_holm_adjustment_by_hand():
    # Sorted 0.01, 0.02, 0.04 over three tests: x3, x2 (then monotone), x1.
    adjusted = holm([0.04, 0.01, 0.02])
    np.testing.assert_allclose(adjusted, [0.04, 0.03, 0.04])
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])
