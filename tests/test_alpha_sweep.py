"""The alpha sweep's table and figure, re-derived from the predictions."""

import io

import numpy as np
import pandas as pd
import pytest
from synthetic_predictions import write_synthetic_predictions

from asrser.evaluation.metrics import pooled_wer, utterance_error_counts
from asrser.report.aggregate import load_predictions
from asrser.report.alpha_sweep import (
    SWEEP_COLUMNS,
    SWEEP_FIGURE_FILES,
    SWEEP_TABLE_FILES,
    TEST_SETS,
    _series_key,
    sweep_predictions,
    sweep_table,
    write_alpha_sweep,
)
from asrser.report.hierarchical_bootstrap import Series, bootstrap_series, summarise_series
from asrser.report.stats import holm

NOISY = TEST_SETS["noisy"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Joint models at the configured alpha (0.1, main run) and at 0.3 over seeds 0 and 1, and
    the main run's baselines (seed 0)."""
    root = tmp_path_factory.mktemp("eval")
    paths = write_synthetic_predictions(
        root, training_seeds=(0, 1), models=("joint",), alphas=(None, 0.3)
    )
    paths += write_synthetic_predictions(root, seed=1, models=("asr", "ser"))
    predictions = sweep_predictions(load_predictions(paths), 0.1, expected_alphas=[0.3])
    return paths, predictions, sweep_table(predictions, 0.1, n_resamples=300, seed=4)


def _rows(predictions, model, train, alpha, conditions, seed):
    rows = predictions[
        (predictions["model"] == model)
        & (predictions["train"] == train)
        & (predictions["condition"].isin(conditions))
        & (predictions["seed"] == seed)
    ]
    return rows[rows["alpha"] == alpha] if alpha is not None else rows


def test_sweep_figures_are_the_means_over_seeds_of_the_pooled_figures(sweep):
    _, predictions, table = sweep
    assert list(table.columns) == list(SWEEP_COLUMNS)
    # 2 trains x 2 test sets x (2 alphas + ASR + SER baselines)
    assert len(table) == 16
    row = table.set_index(["model", "train", "test_set", "alpha"]).loc[
        ("joint", "noisy", "noisy", 0.3)
    ]
    wers, accuracies = [], []
    for seed in (0, 1):
        rows = _rows(predictions, "joint", "noisy", 0.3, NOISY, seed)
        assert len(rows) == 6 * 30  # six conditions of the 30 utterances, pooled
        wers.append(pooled_wer(rows["ref_transcript"], rows["hyp_transcript"]))
        accuracies.append((rows["pred_emotion"] == rows["ref_emotion"]).mean())
    assert row["wer"] == pytest.approx(np.mean(wers))
    assert row["wer_sd"] == pytest.approx(np.std(wers, ddof=1))
    assert (row["wer_min"], row["wer_max"]) == pytest.approx((min(wers), max(wers)))
    assert row["accuracy"] == pytest.approx(np.mean(accuracies))
    assert row["accuracy_sd"] == pytest.approx(np.std(accuracies, ddof=1))
    assert (row["n_seeds"], row["seeds"], row["n_folds"]) == (2, "0 1", 10)
    assert (row["n_utts"], row["n_conditions"], row["configured"]) == (30, 6, False)
    assert row["interval"] == "hierarchical bootstrap over seeds and utterances"

    clean = table.set_index(["model", "train", "test_set", "alpha"]).loc[
        ("joint", "clean", "clean", 0.1)
    ]
    wers = [
        pooled_wer(r["ref_transcript"], r["hyp_transcript"])
        for r in (_rows(predictions, "joint", "clean", 0.1, ("clean",), s) for s in (0, 1))
    ]
    assert clean["wer"] == pytest.approx(np.mean(wers)) and bool(clean["configured"])
    assert np.isnan(clean["wer_delta"])  # the configured alpha is the reference


def test_sweep_interval_is_the_hierarchical_bootstrap_of_the_pooled_utterances(sweep):
    """One CI re-derived: the six noisy versions of an utterance pooled into one unit."""
    _, predictions, table = sweep
    numerators, words = [], None
    for seed in (0, 1):
        rows = _rows(predictions, "joint", "clean", 0.3, NOISY, seed)
        errors, counts = utterance_error_counts(rows["ref_transcript"], rows["hyp_transcript"])
        per_utt = pd.DataFrame({"utt": rows["utt_id"].to_numpy(), "e": errors, "w": counts})
        per_utt = per_utt.groupby("utt", sort=True).sum()
        numerators.append(per_utt["e"].to_numpy())
        words = per_utt["w"].to_numpy()
    series = Series(np.stack(numerators), words)
    stream = np.random.SeedSequence([4, 1, 2])  # seed 4, clean training, noisy test set
    replicates = bootstrap_series([series], 300, stream, keys=[_series_key("joint", 0.3, "wer")])
    expected = summarise_series(series, replicates[:, 0], 0.95)
    row = table[
        (table["model"] == "joint")
        & (table["train"] == "clean")
        & (table["test_set"] == "noisy")
        & (table["alpha"] == 0.3)
    ].iloc[0]
    assert (row["wer_ci_low"], row["wer_ci_high"]) == (expected.ci_low, expected.ci_high)
    assert row["wer"] == pytest.approx(expected.mean)


def test_sweep_compares_each_alpha_with_the_configured_one(sweep):
    _, _, table = sweep
    indexed = table.set_index(["model", "train", "test_set", "alpha"])
    for train in ("clean", "noisy"):
        for test_set in TEST_SETS:
            other = indexed.loc[("joint", train, test_set, 0.3)]
            configured = indexed.loc[("joint", train, test_set, 0.1)]
            # Positive = the swept alpha is better: lower WER, higher accuracy.
            assert other["wer_delta"] == pytest.approx(configured["wer"] - other["wer"])
            assert other["accuracy_delta"] == pytest.approx(
                other["accuracy"] - configured["accuracy"]
            )
            for metric in ("wer", "accuracy"):
                assert other[f"{metric}_delta_ci_low"] <= other[f"{metric}_delta_ci_high"]
                assert 0 < other[f"{metric}_p"] <= 1
    for metric in ("wer", "accuracy"):  # one Holm family per metric: the sweep's four tests
        tested = table[table[f"{metric}_p"].notna()]
        assert len(tested) == 4
        np.testing.assert_allclose(tested[f"{metric}_p_holm"], holm(tested[f"{metric}_p"]))
    baselines = table[table["model"] != "joint"]
    assert baselines["alpha"].isna().all() and (baselines["n_seeds"] == 1).all()
    assert baselines.loc[baselines["model"] == "asr", "accuracy"].isna().all()
    assert baselines.loc[baselines["model"] == "ser", "wer"].isna().all()
    assert (baselines["interval"] == "bootstrap over utterances").all()


def test_write_alpha_sweep_writes_table_and_figure(tmp_path, sweep):
    paths, _, table = sweep
    written = write_alpha_sweep(paths, 0.1, tmp_path / "t", tmp_path / "f", n_resamples=300,
                                seed=4, expected_alphas=[0.3])  # fmt: skip
    assert [p.name for p in written] == [*SWEEP_TABLE_FILES, *SWEEP_FIGURE_FILES]
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "t" / "alpha_sweep.csv"),
        pd.read_csv(io.StringIO(table.to_csv(index=False))),
    )
    markdown = (tmp_path / "t" / "alpha_sweep.md").read_text()
    assert "| **0.1** (configured) | 2 |" in markdown and "| ASR baseline | 1 |" in markdown
    assert "Saravanan, Berman & Sober 2020" in markdown
    assert "Neurons, Behavior, Data Analysis and Theory 3(5)" in markdown
    assert (tmp_path / "f" / "alpha_sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "f" / "alpha_sweep.pdf").read_bytes()[:4] == b"%PDF"


def test_sweep_refuses_incomplete_or_misnamed_inputs(tmp_path, sweep):
    paths, predictions, _ = sweep
    loaded = load_predictions(paths)
    with pytest.raises(ValueError, match=r"missing \[0.5\]"):
        sweep_predictions(loaded, 0.1, expected_alphas=[0.3, 0.5])
    with pytest.raises(ValueError, match=r"not expected \[0.3\]"):
        sweep_predictions(loaded, 0.1, expected_alphas=[])
    with pytest.raises(ValueError, match="alpha 0.3 is the configured alpha"):
        sweep_predictions(loaded, 0.3, expected_alphas=None)
    with pytest.raises(ValueError, match="needs predictions of the joint model"):
        sweep_predictions(loaded[loaded["model"] != "joint"], 0.1, None)
    gap = predictions[
        ~(
            (predictions["alpha"] == 0.3)
            & (predictions["seed"] == 1)
            & (predictions["condition"] == "music5")
        )
    ]
    with pytest.raises(ValueError, match=r"joint-clean-alpha0.3 seed 1: .* found"):
        sweep_table(gap, 0.1, n_resamples=10)
