"""Pool the per-evaluation predictions and score them.

Inputs are the evaluation stage's files
    results/eval/{run}/{fold}/{condition}/predictions.csv
with columns PREDICTION_COLUMNS, where {run} is {model}-{train} with an optional alpha and seed tag
(`asrser.common.run_names`: joint-noisy-alpha0.3-seed2). ASR-only models leave the emotion columns empty, SER-only models
leave hyp_transcript empty. As in the paper, the ten folds (held-out speakers) of one
(model, train, condition) are pooled before scoring; per-fold scores are kept as well, to show the
spread across speakers.

Metric values are fractions (0.15 = 15 %); the tables convert to percent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from asrser import EMOTIONS, MODEL_TYPES, PREDICTION_COLUMNS, TEST_CONDITIONS, TRAIN_CONDITIONS
from asrser.common.run_names import parse_run_name, run_name
from asrser.evaluation.metrics import (
    confusion_matrix,
    scores_from_confusion,
    word_error_counts,
)

log = logging.getLogger(__name__)

PROB_COLUMNS = tuple(f"prob_{emotion}" for emotion in EMOTIONS)
KEY_COLUMNS = ("model", "train", "condition")
ASR_MODELS = ("asr", "joint")  # models that transcribe
SER_MODELS = ("ser", "joint")  # models that classify emotion
BASELINE_OF_TASK = {"asr": "asr", "ser": "ser"}
COUNT_COLUMNS = ("ref_words", "substitutions", "deletions", "insertions")
METRIC_COLUMNS = (
    "n_folds",
    "n_utts",
    "wer",
    "ref_words",
    "substitutions",
    "deletions",
    "insertions",
    "wa",
    "ua",
    "macro_f1",
)

_PATH_PATTERN = re.compile(
    r"(?:^|/)(?P<run>[^/]+)/(?P<fold>[^/]+)/(?P<condition>[^/]+)/predictions\.csv$"
)


@dataclass(frozen=True)
class EvalKey:
    model: str
    train: str
    fold: str
    condition: str
    seed: int = 0
    alpha: float | None = None  # None: the main run, at the configured alpha


def parse_prediction_path(path: str | Path) -> EvalKey:
    """Read (model, train, fold, condition, seed, alpha) from
    .../{model}-{train}[-alpha{a}][-seed{s}]/{fold}/{condition}/predictions.csv."""
    text = Path(path).as_posix()
    match = _PATH_PATTERN.search(text)
    if match is None or not re.fullmatch(r"[a-z]+-[a-z]+(-.*)?", match["run"]):
        raise ValueError(
            f"{path}: expected a path ending in "
            "{model}-{train}/{fold}/{condition}/predictions.csv, "
            "with an optional -alpha{a} and -seed{s} after {train}"
        )
    try:
        run = parse_run_name(match["run"])
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    if match["condition"] not in TEST_CONDITIONS:
        raise ValueError(
            f"{path}: condition {match['condition']!r} is not one of {TEST_CONDITIONS}"
        )
    return EvalKey(run.model, run.train, match["fold"], match["condition"], run.seed, run.alpha)


def read_predictions(path: str | Path) -> pd.DataFrame:
    """One predictions CSV, validated, with model/train/condition columns from its path and, last,
    seed (0 when the path has no seed tag) and alpha (NaN when it has no alpha tag)."""
    key = parse_prediction_path(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in PREDICTION_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected {list(PREDICTION_COLUMNS)}")
    frame = frame[list(PREDICTION_COLUMNS)].copy()
    folds = set(frame["fold"])
    if folds - {key.fold}:
        raise ValueError(
            f"{path}: fold column holds {sorted(folds)}, but the path names fold {key.fold!r}"
        )
    if frame["utt_id"].duplicated().any():
        duplicate = frame.loc[frame["utt_id"].duplicated(), "utt_id"].iloc[0]
        raise ValueError(f"{path}: utt_id {duplicate!r} appears more than once")
    if key.model in SER_MODELS:
        bad = ~frame["pred_emotion"].isin(EMOTIONS) | ~frame["ref_emotion"].isin(EMOTIONS)
        if bad.any():
            row = frame.loc[bad].iloc[0]
            raise ValueError(
                f"{path}: model {key.model!r} needs ref_emotion and pred_emotion in {EMOTIONS}; "
                f"utterance {row['utt_id']!r} has {row['ref_emotion']!r} / {row['pred_emotion']!r}"
            )
    for column in PROB_COLUMNS:
        try:
            frame[column] = pd.to_numeric(frame[column].replace("", np.nan), errors="raise")
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"{path}: column {column} must hold numbers or be empty: {err}"
            ) from None
    frame.insert(0, "condition", key.condition)
    frame.insert(0, "train", key.train)
    frame.insert(0, "model", key.model)
    frame["fold"] = key.fold
    frame["seed"] = key.seed
    frame["alpha"] = float("nan") if key.alpha is None else key.alpha
    return frame


def load_predictions(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Concatenate every predictions CSV; one row per (run, condition, utterance), where a run is
    (model, train, seed, alpha). Columns: model, train, condition, PREDICTION_COLUMNS, seed, alpha."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("no predictions files given")
    frames = [read_predictions(p) for p in tqdm(paths, desc="read predictions", unit="file")]
    predictions = pd.concat(frames, ignore_index=True)
    # NaN alphas (main runs) count as equal here.
    duplicated = predictions.duplicated(["model", "train", "seed", "alpha", "condition", "utt_id"])
    if duplicated.any():
        row = predictions.loc[duplicated].iloc[0]
        alpha = None if pd.isna(row["alpha"]) else float(row["alpha"])
        raise ValueError(
            f"utterance {row['utt_id']!r} is scored twice for "
            f"{run_name(row['model'], row['train'], int(row['seed']), alpha)} "
            f"on {row['condition']}: the same utterance appears in two folds' predictions"
        )
    return predictions


def score_predictions(frame: pd.DataFrame, model: str) -> dict:
    """Pooled metrics of one set of predictions; WER only for ASR models, SER only for SER ones."""
    row: dict = {"n_folds": frame["fold"].nunique(), "n_utts": len(frame)}
    nan = float("nan")
    if model in ASR_MODELS:
        counts = word_error_counts(frame["ref_transcript"], frame["hyp_transcript"])
        row.update(
            wer=counts.wer,
            ref_words=counts.ref_words,
            substitutions=counts.substitutions,
            deletions=counts.deletions,
            insertions=counts.insertions,
        )
    else:
        row.update(wer=nan, ref_words=nan, substitutions=nan, deletions=nan, insertions=nan)
    if model in SER_MODELS:
        scores = scores_from_confusion(
            confusion_matrix(frame["ref_emotion"], frame["pred_emotion"])
        )
        row.update(
            wa=scores.weighted_accuracy, ua=scores.unweighted_accuracy, macro_f1=scores.macro_f1
        )
    else:
        row.update(wa=nan, ua=nan, macro_f1=nan)
    return row


def _with_count_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    # Nullable integers: counts stay integers in the CSV although SER rows have none.
    return frame.astype({column: "Int64" for column in COUNT_COLUMNS})


def _ordered(frame: pd.DataFrame, extra_keys: tuple[str, ...] = ()) -> pd.DataFrame:
    """Sort rows in the project's canonical order (models, trains, conditions as declared)."""
    order = {
        "model": MODEL_TYPES,
        "train": TRAIN_CONDITIONS,
        "condition": TEST_CONDITIONS,
    }
    keys = [*KEY_COLUMNS, *extra_keys]
    sort_frame = frame.copy()
    for column, values in order.items():
        sort_frame[column] = pd.Categorical(sort_frame[column], categories=values, ordered=True)
    index = sort_frame.sort_values(keys, kind="stable").index
    return frame.loc[index].reset_index(drop=True)


def pooled_metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, train, condition): metrics over the pooled folds."""
    rows = []
    for (model, train, condition), group in predictions.groupby(list(KEY_COLUMNS), sort=False):
        rows.append(
            {"model": model, "train": train, "condition": condition}
            | score_predictions(group, model)
        )
    return _ordered(_with_count_dtypes(pd.DataFrame(rows, columns=[*KEY_COLUMNS, *METRIC_COLUMNS])))


def per_fold_metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, train, condition, fold): the same metrics on one held-out speaker."""
    rows = []
    groups = predictions.groupby([*KEY_COLUMNS, "fold"], sort=False)
    for (model, train, condition, fold), group in groups:
        rows.append(
            {"model": model, "train": train, "condition": condition, "fold": fold}
            | score_predictions(group, model)
        )
    columns = [*KEY_COLUMNS, "fold", *METRIC_COLUMNS]
    return _ordered(_with_count_dtypes(pd.DataFrame(rows, columns=columns)), extra_keys=("fold",))


def confusion_counts(predictions: pd.DataFrame) -> pd.DataFrame:
    """Tidy confusion counts: model, train, condition, ref_emotion, pred_emotion, count."""
    rows = []
    ser = predictions[predictions["model"].isin(SER_MODELS)]
    for (model, train, condition), group in ser.groupby(list(KEY_COLUMNS), sort=False):
        matrix = confusion_matrix(group["ref_emotion"], group["pred_emotion"])
        for i, ref in enumerate(EMOTIONS):
            for j, pred in enumerate(EMOTIONS):
                rows.append(
                    {
                        "model": model,
                        "train": train,
                        "condition": condition,
                        "ref_emotion": ref,
                        "pred_emotion": pred,
                        "count": int(matrix[i, j]),
                    }
                )
    columns = [*KEY_COLUMNS, "ref_emotion", "pred_emotion", "count"]
    return _ordered(pd.DataFrame(rows, columns=columns), extra_keys=())
