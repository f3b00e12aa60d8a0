"""How much the joint model loses to its own transcription errors.

The joint model's BERT reads the model's greedy ASR hypotheses, in training and evaluation, as in
the paper. Re-scoring each joint model on its fold's clean test speech with the *reference*
transcripts fed to BERT instead gives the accuracy its linguistic branch would allow with perfect
ASR; set beside the accuracy with its own hypotheses (the study's evaluation) and the SER baseline's,
it tells whether "joint does not beat SER" comes from the transcripts or from the model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from transformers.utils import logging as transformers_logging

from asrser.common.io import write_csv, write_text
from asrser.evaluation.evaluate import predict_manifest
from asrser.evaluation.metrics import weighted_accuracy, word_error_counts
from asrser.models.model_io import load_model
from asrser.runtime.device import resolve_device, set_cpu_threads

log = logging.getLogger(__name__)

COLUMNS = (
    "train",
    "fold",
    "n_utts",
    "ref_words",
    "joint_wer",
    "ser_accuracy",
    "joint_accuracy",
    "joint_accuracy_reference_text",
)


def _accuracy(predictions_path: str | Path) -> tuple[float, float, int, int]:
    """Accuracy, WER, utterances and reference words of one evaluation's predictions."""
    frame = pd.read_csv(predictions_path, keep_default_na=False)
    words = word_error_counts(frame["ref_transcript"].tolist(), frame["hyp_transcript"].tolist())
    accuracy = weighted_accuracy(frame["ref_emotion"], frame["pred_emotion"])
    return accuracy, words.wer, len(frame), words.ref_words


def text_oracle(
    runs: Sequence[dict],
    out_csv: str | Path,
    out_md: str | Path,
    device: str = "auto",
    threads: int = 1,
    max_batch_seconds: float = 60.0,
) -> pd.DataFrame:
    """runs: one dict per (train condition, fold) with keys train, fold, joint_model, manifest
    (the fold's clean test manifest), joint_predictions and ser_predictions (the study's clean
    evaluations of the two models). Writes the per-fold table (CSV) and a pooled summary (md)."""
    set_cpu_threads(threads)
    transformers_logging.disable_progress_bar()
    torch_device = resolve_device(device)
    rows = []
    for run in runs:
        model, processor = load_model(run["joint_model"], device=torch_device)
        if model.config.model != "joint":
            raise ValueError(
                f"'{run['joint_model']}' is a {model.config.model} model, expected joint"
            )
        manifest = pd.read_csv(run["manifest"], keep_default_na=False)
        oracle = predict_manifest(
            model, processor, manifest, torch_device, max_batch_seconds, joint_reads_references=True
        )
        joint_accuracy, joint_wer, n_utts, ref_words = _accuracy(run["joint_predictions"])
        ser_accuracy = _accuracy(run["ser_predictions"])[0]
        rows.append(
            {
                "train": run["train"],
                "fold": run["fold"],
                "n_utts": n_utts,
                "ref_words": ref_words,
                "joint_wer": joint_wer,
                "ser_accuracy": ser_accuracy,
                "joint_accuracy": joint_accuracy,
                "joint_accuracy_reference_text": weighted_accuracy(
                    oracle["ref_emotion"], oracle["pred_emotion"]
                ),
            }
        )
        log.info("%s", rows[-1])
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    write_csv(out_csv, table)
    write_text(out_md, summary_markdown(table))
    return table


def summary_markdown(table: pd.DataFrame) -> str:
    """The folds pooled per training condition (as Table 1 pools them), as a Markdown table."""
    lines = [
        "| train | folds | joint WER | SER acc. | joint acc. | joint acc., reference text |",
        "|---|---|---|---|---|---|",
    ]
    for train, rows in table.groupby("train", sort=False):
        wer = _pooled(rows, "joint_wer", "ref_words")
        accuracies = [
            _pooled(rows, column, "n_utts")
            for column in ("ser_accuracy", "joint_accuracy", "joint_accuracy_reference_text")
        ]
        lines.append(
            f"| {train} | {len(rows)} | {wer:.3f} | "
            + " | ".join(f"{accuracy:.3f}" for accuracy in accuracies)
            + " |"
        )
    lines += [
        "",
        "Weighted accuracy and WER on the clean test speech, the folds pooled (each utterance "
        "counts once). The last column feeds the joint model's BERT the reference transcripts "
        "instead of its own ASR hypotheses.",
    ]
    return "\n".join(lines) + "\n"


def _pooled(rows: pd.DataFrame, column: str, weights: str) -> float:
    """The figure of the folds' predictions pooled: fold figures weighted by utterances
    (accuracy) or reference words (WER). IEMOCAP's speakers have different numbers of
    utterances, so a plain fold mean would not be it."""
    return float((rows[column] * rows[weights]).sum() / rows[weights].sum())
