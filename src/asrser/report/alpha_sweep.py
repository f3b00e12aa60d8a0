"""The joint model against its loss weight alpha: WER and accuracy with confidence intervals.

The joint loss is alpha * L_SER + (1 - alpha) * L_CTC. The sweep trains the joint model at each
alpha of the sweep (all folds, both training conditions, every seed); its point at the configured
alpha is the main run's joint model. Inputs are predictions CSVs of the joint models
(results/eval/joint-{train}[-alpha{a}][-seed{s}]/...) and, optionally, of the main run's ASR and
SER baselines, drawn as reference lines.

Two test sets per training condition: clean speech, and the six noisy test conditions pooled
(noise, music and babble at SNR 15 and 5 dB). Pooled means what Table 1 does with folds: errors
and reference words (correct and scored utterances) summed over the six conditions before
dividing. A figure is the mean over seeds of that pooled figure.

Intervals: percentile CIs of `asrser.report.hierarchical_bootstrap`, the hierarchical bootstrap over
seeds and utterances (Saravanan, Berman & Sober 2020); with one seed it is the bootstrap over
utterances. The resampling unit is the test utterance: its six noisy versions are drawn
together, since they are the same speech. Within a training condition and test set, every alpha
and baseline shares the utterance draws, so each alpha's difference from the configured alpha is
paired by utterance (seeds are not paired: different trainings). Each difference has a CI and a
two-sided p-value, Holm-adjusted over all of the sweep's comparisons of one metric.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from asrser import TEST_CONDITIONS, TRAIN_CONDITIONS
from asrser.common.run_names import format_alpha, run_name
from asrser.evaluation.metrics import utterance_error_counts
from asrser.report.hierarchical_bootstrap import (
    Series,
    bootstrap_series,
    compare_series,
    summarise_series,
)
from asrser.report.stats import holm

log = logging.getLogger(__name__)

TEST_SETS = {"clean": ("clean",), "noisy": tuple(c for c in TEST_CONDITIONS if c != "clean")}
TEST_SET_LABELS = {"clean": "clean speech", "noisy": "noisy speech (six conditions pooled)"}
SWEEP_METRICS = ("wer", "accuracy")
METRIC_OF_MODEL = {"joint": SWEEP_METRICS, "asr": ("wer",), "ser": ("accuracy",)}
SWEEP_TABLE_FILES = ("alpha_sweep.csv", "alpha_sweep.md")
SWEEP_FIGURE_FILES = ("alpha_sweep.png", "alpha_sweep.pdf")
SWEEP_COLUMNS = (
    "model",
    "train",
    "test_set",
    "alpha",
    "configured",
    "n_seeds",
    "seeds",
    "n_folds",
    "n_utts",
    "n_conditions",
    *(
        f"{metric}{suffix}"
        for metric in SWEEP_METRICS
        for suffix in (
            *("", "_sd", "_min", "_max", "_ci_low", "_ci_high"),
            *("_delta", "_delta_ci_low", "_delta_ci_high", "_p", "_p_holm"),
        )
    ),
    "n_resamples",
    "confidence",
    "interval",
)


def sweep_predictions(
    predictions: pd.DataFrame, configured_alpha: float, expected_alphas: Iterable[float] | None
) -> pd.DataFrame:
    """The sweep's rows with every joint row's alpha filled in (the main run's is the configured
    alpha), checked: joint rows at the alphas expected, baselines only from the main run."""
    configured = float(configured_alpha)
    predictions = predictions.copy()
    tagged = predictions["alpha"].notna()
    if (tagged & (predictions["alpha"] == configured)).any():
        raise ValueError(
            f"predictions of a joint-*-alpha{format_alpha(configured)} run: alpha "
            f"{configured:g} is the configured alpha, whose sweep point is the main run's joint "
            "model (no alpha tag)"
        )
    joint = predictions["model"] == "joint"
    predictions.loc[joint & ~tagged, "alpha"] = configured
    if not joint.any():
        raise ValueError("the alpha sweep needs predictions of the joint model")
    found = set(predictions.loc[joint, "alpha"])
    if expected_alphas is not None:
        expected = {float(a) for a in expected_alphas} | {configured}
        missing, extra = sorted(expected - found), sorted(found - expected)
        if missing or extra:
            raise ValueError(
                f"the alpha sweep expects the joint model at alpha {sorted(expected)}: "
                f"missing {missing}, not expected {extra}"
            )
    return predictions


def _outcomes(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per prediction row: word errors, reference words and correctness, for pooling."""
    out = predictions[["model", "train", "alpha", "seed", "condition", "fold", "utt_id"]].copy()
    out["errors"], out["words"] = np.nan, np.nan
    for _, rows in predictions[predictions["model"] != "ser"].groupby(
        ["model", "train", "alpha", "seed"], dropna=False, sort=False
    ):
        errors, words = utterance_error_counts(rows["ref_transcript"], rows["hyp_transcript"])
        out.loc[rows.index, "errors"], out.loc[rows.index, "words"] = errors, words
    out["correct"] = (predictions["pred_emotion"] == predictions["ref_emotion"]).astype(float)
    return out


def _series_of_run(rows: pd.DataFrame, conditions: Sequence[str], metric: str, name: str):
    """A run's Series on a test set (utterances in utt_id order), its folds and utterances."""
    per_seed, utterances = [], None
    for seed, seed_rows in rows.groupby("seed", sort=True):
        present = set(seed_rows["condition"])
        if present != set(conditions):
            raise ValueError(
                f"{name} seed {seed}: the {'+'.join(conditions)} test set needs predictions on "
                f"{sorted(conditions)}, found {sorted(present)}"
            )
        counts = seed_rows.groupby("utt_id", sort=True).agg(
            n=("condition", "size"),
            errors=("errors", "sum"),
            words=("words", "sum"),
            correct=("correct", "sum"),
        )
        if (counts["n"] != len(conditions)).any() or (
            utterances is not None and not counts.index.equals(utterances)
        ):
            raise ValueError(
                f"{name} seed {seed}: every test condition of a test set, and every seed, must "
                "score the same utterances"
            )
        utterances = counts.index
        per_seed.append(counts)
    if metric == "wer":
        numerators = np.stack([c["errors"].to_numpy() for c in per_seed])
        denominators = per_seed[0]["words"].to_numpy()
    else:
        numerators = np.stack([c["correct"].to_numpy() for c in per_seed])
        denominators = per_seed[0]["n"].to_numpy(float)
    return Series(numerators, denominators), rows["fold"].nunique(), utterances


def _series_key(model: str, alpha: float, metric: str) -> int:
    # A stable key per run and metric (see bootstrap_series): the alpha's bits for the joint model.
    base = {"asr": 1, "ser": 2}.get(model)
    if base is None:
        base = int(np.float64(alpha).view(np.uint64)) + 16
    return 2 * base + SWEEP_METRICS.index(metric)


def sweep_table(
    predictions: pd.DataFrame,
    configured_alpha: float,
    n_resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per (model, train, test set, alpha): SWEEP_COLUMNS. `predictions` as returned by
    `sweep_predictions` (joint alphas filled in)."""
    configured = float(configured_alpha)
    outcomes = _outcomes(predictions)
    rows, resamples = [], int(n_resamples)
    for t, train in enumerate(TRAIN_CONDITIONS):
        for s, (test_set, conditions) in enumerate(TEST_SETS.items()):
            subset = outcomes[(outcomes["train"] == train) & outcomes["condition"].isin(conditions)]
            runs, series, keys, utterances = {}, {}, [], None
            for (model, alpha), run_rows in subset.groupby(["model", "alpha"], dropna=False):
                alpha = None if pd.isna(alpha) else float(alpha)
                name = run_name(model, train, 0, None if alpha in (None, configured) else alpha)
                for metric in METRIC_OF_MODEL[model]:
                    one, folds, ids = _series_of_run(run_rows, conditions, metric, name)
                    if utterances is not None and not ids.equals(utterances):
                        raise ValueError(
                            f"{name} and the other runs of the sweep scored different utterances "
                            f"on the {test_set} test set"
                        )
                    utterances = ids
                    series[(model, alpha, metric)] = one
                    keys.append(_series_key(model, alpha, metric))
                runs[(model, alpha)] = (sorted(run_rows["seed"].unique()), folds)
            if not series:
                continue
            stream = np.random.SeedSequence([int(seed), 1 + t, 1 + s])  # not Table 1's streams
            draws = bootstrap_series(list(series.values()), resamples, stream, keys=keys)
            replicates = dict(zip(series, draws.T, strict=True))
            for (model, alpha), (seeds, folds) in runs.items():
                row = {
                    "model": model,
                    "train": train,
                    "test_set": test_set,
                    "alpha": alpha,
                    "configured": model == "joint" and alpha == configured,
                    "n_seeds": len(seeds),
                    "seeds": " ".join(str(int(x)) for x in seeds),
                    "n_folds": folds,
                    "n_utts": len(utterances),
                    "n_conditions": len(conditions),
                    "n_resamples": resamples,
                    "confidence": confidence,
                    "interval": "hierarchical bootstrap over seeds and utterances"
                    if len(seeds) > 1
                    else "bootstrap over utterances",
                }
                for metric in METRIC_OF_MODEL[model]:
                    key = (model, alpha, metric)
                    summary = summarise_series(series[key], replicates[key], confidence)
                    row |= {
                        metric: summary.mean,
                        f"{metric}_sd": summary.sd,
                        f"{metric}_min": summary.min,
                        f"{metric}_max": summary.max,
                        f"{metric}_ci_low": summary.ci_low,
                        f"{metric}_ci_high": summary.ci_high,
                    }
                    reference = ("joint", configured, metric)
                    if model == "joint" and alpha != configured and reference in series:
                        pair = np.column_stack([replicates[reference], replicates[key]])
                        result = compare_series(
                            series[reference], series[key], pair, metric, confidence
                        )
                        row |= {
                            f"{metric}_delta": result.delta,
                            f"{metric}_delta_ci_low": result.ci_low,
                            f"{metric}_delta_ci_high": result.ci_high,
                            f"{metric}_p": result.p_value,
                        }
                rows.append(row)
    table = pd.DataFrame(rows, columns=list(SWEEP_COLUMNS))
    for metric in SWEEP_METRICS:  # each metric's comparisons with the configured alpha: a family
        tested = table[f"{metric}_p"].notna()
        if tested.any():
            table.loc[tested, f"{metric}_p_holm"] = holm(table.loc[tested, f"{metric}_p"])
    order = {"joint": 0, "asr": 1, "ser": 2}
    table = table.assign(
        _train=table["train"].map(TRAIN_CONDITIONS.index),
        _set=table["test_set"].map(list(TEST_SETS).index),
        _model=table["model"].map(order),
    ).sort_values(["_train", "_set", "_model", "alpha"], kind="stable")
    return table.drop(columns=["_train", "_set", "_model"]).reset_index(drop=True)


def write_alpha_sweep(
    prediction_paths: Iterable[str | Path],
    configured_alpha: float,
    tables_dir: str | Path,
    figures_dir: str | Path,
    n_resamples: int = 10_000,
    seed: int = 0,
    significance_level: float = 0.05,
    expected_alphas: Iterable[float] | None = None,
) -> list[Path]:
    """Read the sweep's predictions and write SWEEP_TABLE_FILES into tables_dir and
    SWEEP_FIGURE_FILES into figures_dir (atomically); return their paths.

    `prediction_paths`: every predictions CSV of `asrser.common.run_names.sweep_run_names` (the
    configured alpha's point is always part of the sweep: the main run's joint predictions) and,
    for reference lines, the main run's ASR and SER baselines (all their seeds).
    `configured_alpha` is the main run's alpha; `expected_alphas`, when given, are the sweep's
    alphas, and a missing or extra one stops the step before any work. CIs are at
    1 - significance_level.
    """
    from asrser.common.io import save_figure, write_csv, write_text
    from asrser.report.aggregate import load_predictions
    from asrser.report.alpha_sweep_figure import plot_alpha_sweep, render_sweep_markdown

    if not 0.0 < significance_level < 1.0:
        raise ValueError(f"significance_level must lie in (0, 1), got {significance_level!r}")
    format_alpha(configured_alpha)  # a bad configured alpha fails before the work
    predictions = sweep_predictions(
        load_predictions(prediction_paths), configured_alpha, expected_alphas
    )
    table = sweep_table(predictions, configured_alpha, n_resamples, seed, 1 - significance_level)
    log.info("alpha sweep: %d rows from %d predictions", len(table), len(predictions))
    tables_dir, figures_dir = Path(tables_dir), Path(figures_dir)
    written = [tables_dir / name for name in SWEEP_TABLE_FILES]
    write_csv(written[0], table)
    write_text(written[1], render_sweep_markdown(table, configured_alpha))
    figure = plot_alpha_sweep(table, configured_alpha)
    for name in SWEEP_FIGURE_FILES:
        save_figure(figure, figures_dir / name, dpi=150)
        written.append(figures_dir / name)
    return written
