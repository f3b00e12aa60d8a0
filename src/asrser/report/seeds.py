"""Results over several training seeds: per-seed scores, their spread, and hierarchical tests.

With seeds 0..n-1 of every model, each run's folds are pooled per seed, exactly as with one seed
(`asrser.report.aggregate`), and the seed is kept as a column, so every figure can be traced to
its training. A Table 1 cell is the mean over seeds of that pooled figure, shown with the spread
across seeds (SD with an n - 1 denominator; min-max in metrics_over_seeds.csv), and an
improvement is computed from the two means. The uncertainty of each figure and of each
joint-vs-baseline difference comes from the hierarchical bootstrap over seeds and utterances of
`asrser.report.hierarchical_bootstrap`: one bootstrap per test condition, in which every run scored on
that condition's utterances shares the utterance draws (so differences are paired by utterance)
and draws its own seeds (trainings of different runs are independent).

Metric values are fractions, as in `aggregate`; the tables convert to percent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm import tqdm

from asrser import MODEL_TYPES, TEST_CONDITIONS, TRAIN_CONDITIONS
from asrser.common.run_names import run_name
from asrser.evaluation.metrics import utterance_error_counts
from asrser.report.aggregate import (
    ASR_MODELS,
    BASELINE_OF_TASK,
    KEY_COLUMNS,
    SER_MODELS,
    _ordered,
    confusion_counts,
    per_fold_metrics,
    pooled_metrics,
)
from asrser.report.hierarchical_bootstrap import (
    METRICS,
    SeedComparison,
    Series,
    bootstrap_series,
    compare_series,
    summarise_series,
)
from asrser.report.stats import holm

log = logging.getLogger(__name__)

TASK_METRIC = {"asr": "wer", "ser": "accuracy"}  # the figure each task's comparisons test
METRIC_COLUMN = {"wer": "wer", "accuracy": "wa"}  # where metrics.csv holds it
SUMMARY_METRICS = ("wer", "wa", "ua", "macro_f1")
HIERARCHICAL_TEST = "hierarchical bootstrap over seeds and utterances (Saravanan et al. 2020)"
# A stable key per run and metric: a run's seed draws never depend on which other runs exist.
SERIES_KEYS = {
    (model, train, metric): i
    for i, (metric, model, train) in enumerate(
        (m, model, t) for m in METRICS for model in MODEL_TYPES for t in TRAIN_CONDITIONS
    )
}


def seeds_in(predictions: pd.DataFrame) -> list[int]:
    """The training seeds the predictions hold, in increasing order."""
    return sorted(int(seed) for seed in predictions["seed"].unique())


def _per_seed(predictions: pd.DataFrame, build: Callable, extra_keys=()) -> pd.DataFrame:
    frames = []
    for seed, group in predictions.groupby("seed", sort=True):
        frame = build(group)
        frame.insert(len(KEY_COLUMNS), "seed", int(seed))
        frames.append(frame)
    return _ordered(pd.concat(frames, ignore_index=True), extra_keys=("seed", *extra_keys))


def per_seed_metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """metrics.csv over seeds: one row per (model, train, condition, seed), folds pooled."""
    return _per_seed(predictions, pooled_metrics)


def per_seed_fold_metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """per_fold.csv over seeds: one row per (model, train, condition, seed, fold)."""
    return _per_seed(predictions, per_fold_metrics, extra_keys=("fold",))


def per_seed_confusion(predictions: pd.DataFrame) -> pd.DataFrame:
    """confusion.csv over seeds: the confusion counts of each seed."""
    return _per_seed(predictions, confusion_counts)


def mean_over_seeds(per_seed: pd.DataFrame, extra_keys: tuple[str, ...] = ()) -> pd.DataFrame:
    """Mean over seeds of each metric of `per_seed_metrics` (or of per-fold rows with
    extra_keys=('fold',)), in the layout the Table 1 builder and the figures read."""
    keys = [*KEY_COLUMNS, *extra_keys]
    grouped = per_seed.groupby(keys, sort=False)
    means = grouped[list(SUMMARY_METRICS)].mean()
    means.insert(0, "n_utts", grouped["n_utts"].max())
    means.insert(0, "n_folds", grouped["n_folds"].max())
    means.insert(0, "n_seeds", grouped["seed"].nunique())
    return _ordered(means.reset_index(), extra_keys=extra_keys)


# --------------------------------------------------------------------------- bootstrap


@dataclass
class ConditionBootstrap:
    """Every run's series on one test condition and their bootstrap replicates, drawn together."""

    condition: str
    series: dict[tuple[str, str, str], Series] = field(default_factory=dict)
    replicates: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)

    def compare(self, baseline: tuple, candidate: tuple, confidence: float) -> SeedComparison:
        pair = np.column_stack([self.replicates[baseline], self.replicates[candidate]])
        metric = baseline[2]
        return compare_series(
            self.series[baseline], self.series[candidate], pair, metric, confidence
        )


def condition_series(predictions: pd.DataFrame, condition: str) -> dict[tuple, Series]:
    """Series (seeds x utterances) of every (model, train, metric) evaluated on `condition`.

    Every run and seed must have scored the same utterances with the same references: the
    bootstrap pairs them utterance by utterance.
    """
    cell = predictions[predictions["condition"] == condition]
    utterances, references, series = None, {}, {}
    for (model, train), run in cell.groupby(["model", "train"], sort=False):
        per_seed = {}
        for seed, frame in run.groupby("seed", sort=True):
            frame = frame.sort_values("utt_id")
            name = f"{run_name(model, train, int(seed))} on {condition}"
            ids = frame["utt_id"].to_numpy()
            if utterances is None:
                utterances, first = ids, name
            elif not np.array_equal(ids, utterances):
                only = sorted(set(ids) ^ set(utterances))[:3]
                raise ValueError(
                    f"{name} and {first} scored different utterances (e.g. {only}): a "
                    "comparison over seeds needs the same set from every run and seed"
                )
            checked = {"ref_transcript": ASR_MODELS, "ref_emotion": SER_MODELS}
            for column in (c for c, models in checked.items() if model in models):
                values = frame[column].to_numpy()
                if column not in references:
                    references[column] = (values, name)
                elif not np.array_equal(values, references[column][0]):
                    utt = ids[(values != references[column][0]).argmax()]
                    raise ValueError(
                        f"{name} and {references[column][1]} have different {column} for "
                        f"utterance {utt!r}"
                    )
            per_seed[int(seed)] = frame
        if model in ASR_MODELS:
            counts = [
                utterance_error_counts(f["ref_transcript"], f["hyp_transcript"])
                for f in per_seed.values()
            ]
            series[(model, train, "wer")] = Series(
                np.stack([errors for errors, _ in counts]), counts[0][1]
            )
        if model in SER_MODELS:
            correct = [
                (f["pred_emotion"] == f["ref_emotion"]).to_numpy(float) for f in per_seed.values()
            ]
            series[(model, train, "accuracy")] = Series(np.stack(correct), np.ones(len(ids)))
    return series


def bootstrap_condition(
    predictions: pd.DataFrame, condition: str, n_resamples: int, seed: int
) -> ConditionBootstrap:
    """One hierarchical bootstrap of every run on one test condition."""
    series = condition_series(predictions, condition)
    result = ConditionBootstrap(condition, series)
    if not series:
        return result
    keys = list(series)
    # The utterance draws depend on the seed and the condition only.
    stream = np.random.SeedSequence([int(seed), TEST_CONDITIONS.index(condition)])
    replicates = bootstrap_series(
        [series[k] for k in keys], n_resamples, stream, keys=[SERIES_KEYS[k] for k in keys]
    )
    result.replicates = {k: replicates[:, j] for j, k in enumerate(keys)}
    return result


def bootstrap_conditions(
    predictions: pd.DataFrame, n_resamples: int, seed: int
) -> dict[str, ConditionBootstrap]:
    conditions = [c for c in TEST_CONDITIONS if (predictions["condition"] == c).any()]
    return {
        condition: bootstrap_condition(predictions, condition, n_resamples, seed)
        for condition in tqdm(conditions, desc="hierarchical bootstrap", unit="condition")
    }


# --------------------------------------------------------------------------- tables


SEED_SIGNIFICANCE_COLUMNS = (
    "task",
    "metric",
    "train",
    "condition",
    "baseline_model",
    "n_utts",
    "n_seeds_baseline",
    "n_seeds_joint",
    "baseline",
    "baseline_sd",
    "joint",
    "joint_sd",
    "delta",
    "relative_delta",
    "ci_low",
    "ci_high",
    "relative_ci_low",
    "relative_ci_high",
    "pair_delta_min",
    "pair_delta_max",
    "p_value",
    "p_holm",
    "significant",
    "test",
    "prob_improvement",
    "n_resamples",
    "confidence",
)


def seed_significance(boots: dict[str, ConditionBootstrap], alpha: float = 0.05) -> pd.DataFrame:
    """Joint vs baseline per (task, train, condition), by the hierarchical bootstrap.

    Signs and metrics as `aggregate.significance` (delta > 0: joint better; WER relative,
    accuracy in points); p_holm adjusts each task's cells as one family (Holm 1979).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    rows = []
    for task in ("asr", "ser"):
        metric, baseline_model = TASK_METRIC[task], BASELINE_OF_TASK[task]
        for train in TRAIN_CONDITIONS:
            for condition in TEST_CONDITIONS:
                boot = boots.get(condition)
                base, joint = (baseline_model, train, metric), ("joint", train, metric)
                if boot is None or base not in boot.series or joint not in boot.series:
                    continue
                result = boot.compare(base, joint, 1.0 - alpha)
                rows.append(
                    {
                        "task": task,
                        "metric": metric,
                        "train": train,
                        "condition": condition,
                        "baseline_model": baseline_model,
                        "n_utts": result.n_utts,
                        "n_seeds_baseline": result.baseline.n_seeds,
                        "n_seeds_joint": result.candidate.n_seeds,
                        "baseline": result.baseline.mean,
                        "baseline_sd": result.baseline.sd,
                        "joint": result.candidate.mean,
                        "joint_sd": result.candidate.sd,
                        "delta": result.delta,
                        "relative_delta": result.relative_delta,
                        "ci_low": result.ci_low,
                        "ci_high": result.ci_high,
                        "relative_ci_low": result.relative_ci_low,
                        "relative_ci_high": result.relative_ci_high,
                        "pair_delta_min": result.pair_delta_min,
                        "pair_delta_max": result.pair_delta_max,
                        "p_value": result.p_value,
                        "significant": bool(result.p_value < alpha),
                        "test": HIERARCHICAL_TEST,
                        "prob_improvement": result.prob_improvement,
                        "n_resamples": result.n_resamples,
                        "confidence": result.confidence,
                    }
                )
    frame = pd.DataFrame(rows, columns=list(SEED_SIGNIFICANCE_COLUMNS))
    if len(frame):
        frame["p_holm"] = frame.groupby("task")["p_value"].transform(holm)
    counts = ("n_utts", "n_seeds_baseline", "n_seeds_joint", "n_resamples")
    return frame.astype({column: "Int64" for column in counts})


def seed_summary(
    per_seed: pd.DataFrame, boots: dict[str, ConditionBootstrap], confidence: float
) -> pd.DataFrame:
    """metrics_over_seeds.csv: per (model, train, condition) the seeds, and per metric the mean
    over seeds, SD (n - 1), min and max; for WER and accuracy (wa) the bootstrap CI of the mean."""
    rows = []
    for (model, train, condition), group in per_seed.groupby(list(KEY_COLUMNS), sort=False):
        row = {
            "model": model,
            "train": train,
            "condition": condition,
            "n_seeds": group["seed"].nunique(),
            "seeds": " ".join(str(s) for s in sorted(group["seed"])),
            "n_folds": int(group["n_folds"].max()),
            "n_utts": int(group["n_utts"].max()),
        }
        for metric in SUMMARY_METRICS:
            values = group[metric].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            row[metric] = finite.mean() if finite.size else np.nan
            row[f"{metric}_sd"] = np.std(finite, ddof=1) if finite.size > 1 else np.nan
            row[f"{metric}_min"] = finite.min() if finite.size else np.nan
            row[f"{metric}_max"] = finite.max() if finite.size else np.nan
            if metric in ("wer", "wa"):
                key = (model, train, "wer" if metric == "wer" else "accuracy")
                boot = boots.get(condition)
                low = high = np.nan
                if boot is not None and key in boot.replicates:
                    summary = summarise_series(boot.series[key], boot.replicates[key], confidence)
                    low, high = summary.ci_low, summary.ci_high
                row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = low, high
        row["confidence"] = confidence
        rows.append(row)
    return _ordered(pd.DataFrame(rows))


FIG2_COMPARED = (("baseline", "noisy"), ("joint", "clean"), ("joint", "noisy"))


def fig2_intervals(
    boots: dict[str, ConditionBootstrap], task: str, confidence: float
) -> pd.DataFrame:
    """CIs of Fig. 2's bars: each compared model against the clean-trained baseline, in the
    figure's units (relative WER reduction in %, accuracy change in points)."""
    metric, baseline_model = TASK_METRIC[task], BASELINE_OF_TASK[task]
    reference = (baseline_model, "clean", metric)
    rows = []
    for condition, boot in boots.items():
        for part, train in FIG2_COMPARED:
            model = baseline_model if part == "baseline" else "joint"
            compared = (model, train, metric)
            if reference not in boot.series or compared not in boot.series:
                continue
            result = boot.compare(reference, compared, confidence)
            low, high = (
                (result.relative_ci_low, result.relative_ci_high)
                if task == "asr"
                else (result.ci_low, result.ci_high)
            )
            rows.append(
                {
                    "test_condition": condition,
                    "part": part,
                    "train": train,
                    "low": low * 100.0,
                    "high": high * 100.0,
                }
            )
    return pd.DataFrame(rows, columns=["test_condition", "part", "train", "low", "high"])
