"""Hierarchical bootstrap over seeds and utterances, against its definition and known cases."""

import numpy as np
import pytest

from asrser.report.hierarchical_bootstrap import (
    Series,
    bootstrap_series,
    compare_series,
    hierarchical_compare,
    summarise_series,
)
from asrser.report.stats import compare_accuracy, paired_bootstrap_wer


def _wer_series(seeds=3, n=200, rate=0.2, seed=0):
    rng = np.random.default_rng(seed)
    words = rng.integers(1, 25, n)
    return Series(rng.binomial(words, rate, size=(seeds, n)), words)


def test_series_statistic_is_the_mean_over_seeds_of_the_pooled_figure():
    # Two seeds on three utterances of 10, 1 and 9 words: 4/20 and 2/20 pooled.
    series = Series([[1, 0, 3], [2, 0, 0]], [10, 1, 9])
    np.testing.assert_allclose(series.per_seed, [0.2, 0.1])
    assert series.statistic == pytest.approx(0.15)  # not 6/40 by luck: same words per seed
    summary = summarise_series(series, np.array([0.1, 0.15, 0.2]), confidence=0.5)
    assert (summary.n_seeds, summary.n_utts) == (2, 3)
    assert summary.sd == pytest.approx(np.sqrt(2 * 0.05**2 / (2 - 1)))  # n - 1 denominator
    assert (summary.min, summary.max) == (pytest.approx(0.1), pytest.approx(0.2))
    assert (summary.ci_low, summary.ci_high) == pytest.approx((0.125, 0.175))
    assert np.isnan(summarise_series(Series([[1, 0, 3]], [10, 1, 9]), np.ones(3), 0.9).sd)


def test_one_seed_per_run_is_the_paired_utterance_bootstrap_draw_for_draw():
    base, joint = _wer_series(1, 300, 0.20, seed=1), _wer_series(1, 300, 0.16, seed=2)
    joint = Series(joint.numerators, base.denominators)  # same utterances, same words
    words = base.denominators.astype(int)
    for n_resamples in (100, 700):  # one chunk and several
        ours = hierarchical_compare(base, joint, "wer", n_resamples=n_resamples, seed=5)
        theirs = paired_bootstrap_wer(
            base.numerators[0].astype(int),
            joint.numerators[0].astype(int),
            words,
            n_resamples=n_resamples,
            seed=5,
        )
        assert (ours.delta, ours.relative_delta) == (theirs.delta, theirs.relative_delta)
        assert (ours.ci_low, ours.ci_high) == (theirs.ci_low, theirs.ci_high)
        assert (ours.relative_ci_low, ours.relative_ci_high) == (
            theirs.relative_ci_low,
            theirs.relative_ci_high,
        )
        assert (ours.p_value, ours.prob_improvement) == (theirs.p_value, theirs.prob_improvement)


def test_one_seed_accuracy_interval_is_the_paired_bootstrap_interval():
    rng = np.random.default_rng(3)
    baseline, joint = rng.random(150) < 0.6, rng.random(150) < 0.7
    ours = hierarchical_compare(
        Series(baseline[None].astype(float), np.ones(150)),
        Series(joint[None].astype(float), np.ones(150)),
        "accuracy",
        n_resamples=400,
        seed=8,
    )
    theirs = compare_accuracy(baseline, joint, n_resamples=400, seed=8)
    assert ours.delta == pytest.approx(theirs.delta)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((theirs.ci_low, theirs.ci_high))
    assert np.isnan(ours.relative_delta) and np.isnan(ours.relative_ci_low)


def test_replicates_follow_the_two_level_definition():
    """Re-derived with loops: one shared utterance draw per resample, each series' own seeds."""
    rng = np.random.default_rng(0)
    n, resamples = 6, 60
    words = rng.integers(1, 9, n)
    first = Series(rng.binomial(words, 0.3, size=(2, n)), words)
    second = Series((rng.random((3, n)) < 0.5).astype(float), np.ones(n))
    keys = (4, 9)
    got = bootstrap_series([first, second], resamples, seed=11, keys=keys)

    utterance_draws = np.random.default_rng(11).integers(0, n, size=(resamples, n))
    expected = np.empty((resamples, 2))
    for j, (series, key) in enumerate(zip((first, second), keys, strict=True)):
        child = np.random.SeedSequence(11, spawn_key=(key,))
        seed_draws = np.random.default_rng(child).integers(
            0, series.n_seeds, size=(resamples, series.n_seeds)
        )
        for r in range(resamples):
            utts = utterance_draws[r]
            figures = [
                series.numerators[s, utts].sum() / series.denominators[utts].sum()
                for s in seed_draws[r]
            ]
            expected[r, j] = np.mean(figures)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_seed_level_alone_has_the_known_bootstrap_distribution():
    # One utterance: the utterance level is fixed, and the mean over two seeds drawn with
    # replacement from {a, b} is a, (a + b)/2 or b with probabilities 1/4, 1/2, 1/4.
    series = Series([[1.0], [0.0]], [1.0])
    replicates = bootstrap_series([series], 20_000, seed=2)[:, 0]
    shares = [np.mean(replicates == value) for value in (1.0, 0.5, 0.0)]
    np.testing.assert_allclose(shares, [0.25, 0.5, 0.25], atol=0.02)


def test_bootstrap_variance_matches_the_plug_in_variance_of_each_level():
    # Seeds alone: Var* of a mean over m seeds is the plug-in variance (ddof 0) over m, i.e.
    # (m - 1)/m of the usual s^2/m (benchmarks/bench_hierarchical_coverage.py: net coverage).
    per_seed = np.array([0.50, 0.56, 0.61, 0.47, 0.52])
    seeds_only = Series(per_seed[:, None], [1.0])
    replicates = bootstrap_series([seeds_only], 40_000, seed=1)[:, 0]
    assert replicates.var() == pytest.approx(per_seed.var(ddof=0) / 5, rel=0.05)
    # Utterances alone (one seed): the variance of an accuracy over n utterances, p(1 - p)/n.
    correct = (np.arange(400) % 10 < 6).astype(float)
    one_seed = Series(correct[None], np.ones(400))
    replicates = bootstrap_series([one_seed], 40_000, seed=1)[:, 0]
    assert replicates.var() == pytest.approx(0.6 * 0.4 / 400, rel=0.05)


def test_a_series_replicates_do_not_depend_on_the_series_beside_it():
    alone = bootstrap_series([_wer_series(seed=4)], 300, seed=3, keys=[7])
    beside = bootstrap_series([_wer_series(seed=5), _wer_series(seed=4)], 300, seed=3, keys=[2, 7])
    np.testing.assert_array_equal(alone[:, 0], beside[:, 1])


def test_comparison_signs_pairings_and_p_value():
    words = np.full(4, 10)
    baseline = Series([[4, 2, 0, 0], [2, 2, 0, 0]], words)  # 0.15, 0.10
    joint = Series([[1, 1, 1, 0], [0, 0, 1, 0], [2, 2, 0, 0]], words)  # 0.075, 0.025, 0.10
    replicates = bootstrap_series([baseline, joint], 500, seed=0)
    result = compare_series(baseline, joint, replicates, "wer", confidence=0.9)
    assert result.delta == pytest.approx(0.125 - (0.2 / 3))  # baseline - joint
    assert result.relative_delta == pytest.approx(result.delta / 0.125)
    assert result.pair_delta_min == pytest.approx(0.10 - 0.10)
    assert result.pair_delta_max == pytest.approx(0.15 - 0.025)
    deltas = replicates[:, 0] - replicates[:, 1]
    opposite = np.count_nonzero(deltas <= 0)
    assert result.p_value == pytest.approx(min(1.0, 2 * (opposite + 1) / 501))
    assert (result.ci_low, result.ci_high) == pytest.approx(tuple(np.percentile(deltas, [5, 95])))
    assert result.prob_improvement == pytest.approx(np.mean(deltas > 0))
    assert result.baseline.n_seeds == 2 and result.candidate.n_seeds == 3

    # Accuracy: joint - baseline, so a better joint model is a positive delta as well.
    ones = np.ones(4)
    worse, better = Series([[1, 0, 0, 1]], ones), Series([[1, 1, 0, 1], [1, 1, 1, 1]], ones)
    accuracy = hierarchical_compare(worse, better, "accuracy", n_resamples=200, seed=1)
    assert accuracy.delta == pytest.approx(0.875 - 0.5)
    assert (accuracy.pair_delta_min, accuracy.pair_delta_max) == pytest.approx((0.25, 0.5))


def test_clear_gain_over_seeds_and_no_gain_against_itself():
    base = _wer_series(3, 400, 0.25, seed=1)
    joint = Series(np.maximum(base.numerators - 2, 0), base.denominators)
    clear = hierarchical_compare(base, joint, "wer", n_resamples=2000, seed=0)
    assert clear.delta > 0 and clear.ci_low > 0 and clear.p_value == pytest.approx(2 / 2001)
    same = hierarchical_compare(base, base, "wer", n_resamples=2000, seed=0)
    assert same.delta == 0 and same.p_value == 1.0


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="one value per utterance"):
        Series([[1, 2]], [1, 2, 3])
    with pytest.raises(ValueError, match="at least one seed"):
        Series(np.zeros((0, 3)), [1, 1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        Series([[-1, 2]], [1, 1])
    with pytest.raises(ValueError, match="positive denominator"):
        Series([[0, 0]], [0, 0])
    with pytest.raises(ValueError, match="same utterances"):
        bootstrap_series([Series([[1, 2]], [2, 2]), Series([[1]], [2])])
    with pytest.raises(ValueError, match="keys must be distinct"):
        bootstrap_series([Series([[1]], [2]), Series([[1]], [2])], keys=[1, 1])
    with pytest.raises(ValueError, match="metric must be one of"):
        hierarchical_compare(Series([[1]], [2]), Series([[1]], [2]), "f1", n_resamples=10)
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_series([Series([[1]], [2])], n_resamples=0)
