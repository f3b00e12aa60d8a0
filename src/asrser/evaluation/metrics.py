"""Scoring: pooled word error rate for ASR and accuracy-type metrics for SER.

WER as we read the paper's protocol (§4.1: every fold's predictions are stored, then scored
together): the predictions of all utterances (all ten folds) are pooled and the error counts are
summed before dividing,

    WER = (substitutions + deletions + insertions) / reference words,

never averaged over per-utterance WERs (that would give a one-word utterance the weight of a
forty-word one). Both sides are normalised with `asrser.common.text.normalize_transcript` first: upper
case, every character other than A-Z and the apostrophe becomes a word break (punctuation is
removed, apostrophes inside words are kept), IEMOCAP's bracketed non-speech tokens such as
[LAUGHTER] are removed. Alignment and counting are jiwer's (Levenshtein over words).

Empty strings are valid: an empty hypothesis scores its reference's words as deletions, an empty
reference scores the hypothesis' words as insertions. A WER over zero reference words is undefined
and returned as NaN.

SER metrics use the labels of `asrser.EMOTIONS`:
  - weighted accuracy (WA): plain accuracy, the figure the paper reports;
  - unweighted accuracy (UA): balanced accuracy, the mean per-class recall over the classes present
    in the references;
  - macro F1 over the classes present in references or predictions (F1 of a class with no true
    positive is 0);
  - the confusion matrix, rows = reference, columns = prediction, in `EMOTIONS` order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jiwer
import numpy as np

from asrser import EMOTIONS
from asrser.common.text import normalize_transcript


@dataclass(frozen=True)
class WordErrorCounts:
    """Word-level edit counts summed over a set of utterances."""

    substitutions: int
    deletions: int
    insertions: int
    hits: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def ref_words(self) -> int:
        return self.substitutions + self.deletions + self.hits

    @property
    def wer(self) -> float:
        """Pooled WER as a fraction (0.15 = 15 %); NaN when there are no reference words."""
        return self.errors / self.ref_words if self.ref_words else float("nan")


def _normalised_pairs(
    references: Sequence[str], hypotheses: Sequence[str], normalize: bool
) -> tuple[list[str], list[str]]:
    references, hypotheses = list(references), list(hypotheses)
    if len(references) != len(hypotheses):
        raise ValueError(
            f"{len(references)} references but {len(hypotheses)} hypotheses: expected one each"
        )
    for name, texts in (("reference", references), ("hypothesis", hypotheses)):
        bad = next((t for t in texts if not isinstance(t, str)), None)
        if bad is not None:
            raise TypeError(f"every {name} must be a str (use '' for none), got {bad!r}")
    if normalize:
        references = [normalize_transcript(t) for t in references]
        hypotheses = [normalize_transcript(t) for t in hypotheses]
    return references, hypotheses


def _process_words(references: list[str], hypotheses: list[str]) -> jiwer.WordOutput:
    return jiwer.process_words(references, hypotheses)


def word_error_counts(
    references: Sequence[str], hypotheses: Sequence[str], normalize: bool = True
) -> WordErrorCounts:
    """Edit counts pooled over all utterance pairs."""
    references, hypotheses = _normalised_pairs(references, hypotheses, normalize)
    if not references:
        return WordErrorCounts(0, 0, 0, 0)
    out = _process_words(references, hypotheses)
    return WordErrorCounts(out.substitutions, out.deletions, out.insertions, out.hits)


def pooled_wer(
    references: Sequence[str], hypotheses: Sequence[str], normalize: bool = True
) -> float:
    """WER of the pooled corpus as a fraction: summed errors over summed reference words."""
    return word_error_counts(references, hypotheses, normalize).wer


def pooled_cer(
    references: Sequence[str], hypotheses: Sequence[str], normalize: bool = True
) -> float:
    """Character error rate of the pooled corpus (spaces count as characters), counted as the
    WER is: an empty reference scores its hypothesis' characters as insertions; NaN when there
    are no reference characters."""
    references, hypotheses = _normalised_pairs(references, hypotheses, normalize)
    if not references:
        return float("nan")
    out = jiwer.process_characters(references, hypotheses)
    ref_chars = out.substitutions + out.deletions + out.hits
    if ref_chars == 0:
        return float("nan")
    return (out.substitutions + out.deletions + out.insertions) / ref_chars


def utterance_error_counts(
    references: Sequence[str], hypotheses: Sequence[str], normalize: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Per-utterance (errors, reference words) as int64 arrays, for the paired bootstrap.

    Their sums equal `word_error_counts` of the same pairs.
    """
    references, hypotheses = _normalised_pairs(references, hypotheses, normalize)
    errors = np.zeros(len(references), dtype=np.int64)
    ref_words = np.zeros(len(references), dtype=np.int64)
    if not references:
        return errors, ref_words
    out = _process_words(references, hypotheses)
    for i, (words, chunks) in enumerate(zip(out.references, out.alignments, strict=True)):
        ref_words[i] = len(words)
        for chunk in chunks:
            if chunk.type == "equal":
                continue
            # A substitution chunk spans equal lengths on both sides; a deletion only the
            # reference side, an insertion only the hypothesis side.
            ref_span = chunk.ref_end_idx - chunk.ref_start_idx
            hyp_span = chunk.hyp_end_idx - chunk.hyp_start_idx
            errors[i] += max(ref_span, hyp_span)
    return errors, ref_words


# --------------------------------------------------------------------------- SER


@dataclass(frozen=True)
class SerScores:
    """Classification metrics over a set of utterances (fractions, not percent)."""

    n: int
    weighted_accuracy: float
    unweighted_accuracy: float
    macro_f1: float
    confusion: np.ndarray  # (len(labels), len(labels)) counts, rows = reference


def _label_indices(values: Sequence[str], labels: Sequence[str], what: str) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    try:
        return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))
    except KeyError as err:
        raise ValueError(f"{what} label {err.args[0]!r} is not one of {tuple(labels)}") from None


def confusion_matrix(
    references: Sequence[str], predictions: Sequence[str], labels: Sequence[str] = EMOTIONS
) -> np.ndarray:
    """Counts with rows = reference label, columns = predicted label, both in `labels` order."""
    references, predictions = list(references), list(predictions)
    if len(references) != len(predictions):
        raise ValueError(f"{len(references)} reference labels but {len(predictions)} predictions")
    ref = _label_indices(references, labels, "reference")
    pred = _label_indices(predictions, labels, "predicted")
    k = len(labels)
    return np.bincount(ref * k + pred, minlength=k * k).reshape(k, k)


def scores_from_confusion(confusion: np.ndarray) -> SerScores:
    """WA, UA and macro F1 from a confusion matrix (rows = reference)."""
    confusion = np.asarray(confusion, dtype=np.int64)
    n = int(confusion.sum())
    if n == 0:
        nan = float("nan")
        return SerScores(0, nan, nan, nan, confusion)
    true_positives = np.diag(confusion).astype(float)
    support = confusion.sum(axis=1)  # reference count per class
    predicted = confusion.sum(axis=0)
    present = support > 0
    recall = np.divide(true_positives, support, out=np.zeros_like(true_positives), where=present)
    precision = np.divide(
        true_positives, predicted, out=np.zeros_like(true_positives), where=predicted > 0
    )
    denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall, denominator, out=np.zeros_like(denominator), where=denominator > 0
    )
    scored = present | (predicted > 0)
    return SerScores(
        n=n,
        weighted_accuracy=float(true_positives.sum() / n),
        unweighted_accuracy=float(recall[present].mean()),
        macro_f1=float(f1[scored].mean()),
        confusion=confusion,
    )


def ser_scores(
    references: Sequence[str], predictions: Sequence[str], labels: Sequence[str] = EMOTIONS
) -> SerScores:
    """All SER metrics for paired reference / predicted labels."""
    return scores_from_confusion(confusion_matrix(references, predictions, labels))


def weighted_accuracy(references: Sequence[str], predictions: Sequence[str]) -> float:
    """Plain accuracy (the paper's SER figure), as a fraction."""
    return ser_scores(references, predictions).weighted_accuracy


def unweighted_accuracy(references: Sequence[str], predictions: Sequence[str]) -> float:
    """Balanced accuracy: mean recall over the classes present in the references."""
    return ser_scores(references, predictions).unweighted_accuracy


def macro_f1(references: Sequence[str], predictions: Sequence[str]) -> float:
    """Unweighted mean of per-class F1 over classes present in references or predictions."""
    return ser_scores(references, predictions).macro_f1
