"""Joint model against its baseline, cell by cell of Table 1: paired tests on the same test
utterances (asrser.report.stats), with Holm's adjustment over each task's cells.

A row's `task` is the metric family (asr: WER against the ASR baseline; ser: accuracy against the
SER baseline), not a model type: the joint model is in both families.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm import tqdm

from asrser import TEST_CONDITIONS, TRAIN_CONDITIONS
from asrser.evaluation.metrics import utterance_error_counts
from asrser.report.aggregate import BASELINE_OF_TASK
from asrser.report.stats import compare_accuracy, holm, paired_bootstrap_wer


def _paired(
    predictions: pd.DataFrame, baseline: str, train: str, condition: str
) -> pd.DataFrame | None:
    """Baseline and joint predictions of one cell joined on utt_id; None if either is missing."""

    def select(model: str) -> pd.DataFrame:
        mask = (
            (predictions["model"] == model)
            & (predictions["train"] == train)
            & (predictions["condition"] == condition)
        )
        return predictions.loc[mask].set_index("utt_id")

    base, joint = select(baseline), select("joint")
    if base.empty or joint.empty:
        return None
    only_base = base.index.difference(joint.index)
    only_joint = joint.index.difference(base.index)
    if len(only_base) or len(only_joint):
        raise ValueError(
            f"{baseline}-{train} and joint-{train} on {condition} scored different utterances "
            f"({len(only_base)} only in {baseline}, e.g. {list(only_base[:3])}; {len(only_joint)} "
            f"only in joint, e.g. {list(only_joint[:3])}): a paired comparison needs the same set"
        )
    return base.merge(
        joint, how="left", left_index=True, right_index=True, suffixes=("_base", "_joint")
    )


def _cell_seed(seed: int, task: str, train: str, condition: str) -> np.random.SeedSequence:
    # A stable per-cell stream: a cell's result does not depend on which other cells exist.
    return np.random.SeedSequence(
        [
            int(seed),
            ("asr", "ser").index(task),
            TRAIN_CONDITIONS.index(train),
            TEST_CONDITIONS.index(condition),
        ]
    )


SIGNIFICANCE_COLUMNS = (
    "task",
    "metric",
    "train",
    "condition",
    "baseline_model",
    "n_utts",
    "baseline",
    "joint",
    "delta",
    "relative_delta",
    "ci_low",
    "ci_high",
    "relative_ci_low",
    "relative_ci_high",
    "p_value",
    "p_holm",
    "significant",
    "test",
    "prob_improvement",
    "baseline_only_correct",
    "joint_only_correct",
    "n_resamples",
    "confidence",
)


def significance(
    predictions: pd.DataFrame,
    n_resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Joint vs baseline for every (task, train, condition) both models were evaluated on.

    task 'asr': WER of joint vs asr (paired bootstrap); task 'ser': accuracy of joint vs ser
    (exact McNemar p, bootstrap CI). delta > 0 means the joint model is better. The CI level is
    1 - alpha; `significant` is p_value < alpha.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    confidence = 1.0 - alpha
    rows = []
    cells = [
        (task, train, condition)
        for task in ("asr", "ser")
        for train in TRAIN_CONDITIONS
        for condition in TEST_CONDITIONS
    ]
    for task, train, condition in tqdm(cells, desc="significance", unit="cell"):
        baseline_model = BASELINE_OF_TASK[task]
        pair = _paired(predictions, baseline_model, train, condition)
        if pair is None:
            continue
        cell_seed = _cell_seed(seed, task, train, condition)
        row = {
            "task": task,
            "train": train,
            "condition": condition,
            "baseline_model": baseline_model,
        }
        if task == "asr":
            row |= _wer_row(
                pair, baseline_model, train, condition, n_resamples, cell_seed, confidence
            )
        else:
            _check_same_references(pair, "ref_emotion", baseline_model, train, condition)
            result = compare_accuracy(
                pair["pred_emotion_base"] == pair["ref_emotion_base"],
                pair["pred_emotion_joint"] == pair["ref_emotion_joint"],
                n_resamples=n_resamples,
                seed=cell_seed,
                confidence=confidence,
            )
            row |= {
                "metric": "accuracy",
                "n_utts": result.n_utts,
                "baseline": result.baseline_accuracy,
                "joint": result.joint_accuracy,
                "delta": result.delta,
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
                "p_value": result.p_value,
                "test": "exact McNemar (binomial on discordant pairs); paired bootstrap CI",
                "baseline_only_correct": result.baseline_only,
                "joint_only_correct": result.joint_only,
                "n_resamples": result.n_resamples,
                "confidence": result.confidence,
            }
        row["significant"] = bool(row["p_value"] < alpha)
        rows.append(row)
    # Nullable integers: the McNemar counts stay integers in the CSV although WER rows have none.
    counts = {"n_utts", "baseline_only_correct", "joint_only_correct", "n_resamples"}
    frame = pd.DataFrame(rows, columns=list(SIGNIFICANCE_COLUMNS))
    if len(frame):  # each task's cells are one family of tests
        frame["p_holm"] = frame.groupby("task")["p_value"].transform(holm)
    return frame.astype({column: "Int64" for column in counts})


def _check_same_references(pair, column: str, baseline_model, train, condition) -> None:
    """The two models' predictions pair utterance by utterance only if they share references."""
    base, joint = pair[f"{column}_base"], pair[f"{column}_joint"]
    if not (base == joint).all():
        utt = base.index[(base != joint).to_numpy()][0]
        kind = {"ref_transcript": "transcripts", "ref_emotion": "emotions"}[column]
        raise ValueError(
            f"{baseline_model}-{train} and joint-{train} on {condition} have different reference "
            f"{kind} for utterance {utt!r}"
        )


def _wer_row(pair, baseline_model, train, condition, n_resamples, seed, confidence) -> dict:
    _check_same_references(pair, "ref_transcript", baseline_model, train, condition)
    refs_base = pair["ref_transcript_base"]
    base_errors, words = utterance_error_counts(refs_base, pair["hyp_transcript_base"])
    joint_errors, _ = utterance_error_counts(refs_base, pair["hyp_transcript_joint"])
    result = paired_bootstrap_wer(
        base_errors, joint_errors, words, n_resamples=n_resamples, seed=seed, confidence=confidence
    )
    return {
        "metric": "wer",
        "n_utts": result.n_utts,
        "baseline": result.baseline_wer,
        "joint": result.joint_wer,
        "delta": result.delta,
        "relative_delta": result.relative_delta,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "relative_ci_low": result.relative_ci_low,
        "relative_ci_high": result.relative_ci_high,
        "p_value": result.p_value,
        "test": "paired bootstrap over utterances (Bisani & Ney 2004)",
        "prob_improvement": result.prob_improvement,
        "n_resamples": result.n_resamples,
        "confidence": result.confidence,
    }
