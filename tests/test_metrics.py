"""Scoring functions against hand-computed cases."""

import math

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from asrser import EMOTIONS
from asrser.common.text import normalize_transcript, unspellable_letters
from asrser.evaluation.metrics import (
    confusion_matrix,
    macro_f1,
    pooled_wer,
    ser_scores,
    unweighted_accuracy,
    utterance_error_counts,
    weighted_accuracy,
    word_error_counts,
)


def test_pooled_wer_sums_counts_instead_of_averaging_utterances():
    # A ten-word utterance transcribed perfectly and a one-word utterance transcribed wrong:
    # pooled WER = 1 error / 11 words; a mean of per-utterance WERs would say (0 + 1) / 2.
    refs = ["a b c d e f g h i j", "k"]
    hyps = ["a b c d e f g h i j", "x"]
    assert pooled_wer(refs, hyps) == pytest.approx(1 / 11)
    per_utterance = [pooled_wer([r], [h]) for r, h in zip(refs, hyps, strict=True)]
    assert np.mean(per_utterance) == pytest.approx(0.5)


def test_word_error_counts_by_type():
    # sub (b->x) in the first, ins (f) in the second, del (h) in the third.
    counts = word_error_counts(["a b c", "d e", "g h"], ["a x c", "d e f", "g"])
    assert (counts.substitutions, counts.deletions, counts.insertions) == (1, 1, 1)
    assert counts.hits == 5
    assert counts.ref_words == 7
    assert counts.errors == 3
    assert counts.wer == pytest.approx(3 / 7)


def test_normalisation_case_punctuation_brackets_apostrophes():
    assert pooled_wer(["Hello, World! [LAUGHTER]"], ["hello world"]) == 0.0
    assert pooled_wer(["<noise> I don't know."], ["i don't know"]) == 0.0
    # The apostrophe is part of the word: "dont" is a substitution of "DON'T".
    assert pooled_wer(["I don't know"], ["i dont know"]) == pytest.approx(1 / 3)
    # Without normalisation case differences count.
    assert pooled_wer(["Hello"], ["hello"], normalize=False) == 1.0


def test_normalisation_folds_accents_and_typographic_apostrophes():
    assert normalize_transcript("Café naïve, fiancée!") == "CAFE NAIVE FIANCEE"
    assert normalize_transcript("I don’t know ‘really’") == "I DON'T KNOW REALLY"
    assert normalize_transcript("Straße") == "STRASSE"
    # What no alphabet letter spells becomes a word break, and is reported as such.
    assert normalize_transcript("hello Привет there") == "HELLO THERE"
    assert unspellable_letters("hello Привет [ЛАУГХ] there") == "ПРИВЕТ"
    assert unspellable_letters("caf\ufffd") == "\ufffd"
    assert unspellable_letters("Café don’t [LAUGHTER]") == ""


def test_empty_hypothesis_and_reference():
    counts = word_error_counts(["a b", ""], ["", "x y z"])
    assert (counts.deletions, counts.insertions, counts.ref_words) == (2, 3, 2)
    assert counts.wer == pytest.approx(5 / 2)
    # Only bracketed tokens: nothing left to recognise; an empty hypothesis makes no error.
    assert word_error_counts(["[LAUGHTER]"], [""]).errors == 0
    assert math.isnan(pooled_wer([""], ["a"]))  # WER over zero reference words is undefined
    assert math.isnan(pooled_wer([], []))


def test_utterance_error_counts_add_up_to_pooled_counts():
    refs = ["a b c", "d e", "g h", "", "Hello, [BREATHING] there"]
    hyps = ["a x c", "d e f", "g", "extra words", "hello their"]
    errors, words = utterance_error_counts(refs, hyps)
    assert errors.tolist() == [1, 1, 1, 2, 1]
    assert words.tolist() == [3, 2, 2, 0, 2]
    pooled = word_error_counts(refs, hyps)
    assert errors.sum() == pooled.errors and words.sum() == pooled.ref_words


def test_wer_input_errors():
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        pooled_wer(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="hypothesis must be a str"):
        pooled_wer(["a"], [float("nan")])


def test_ua_differs_from_wa_on_imbalanced_classes():
    # Eight neutral, two angry; a classifier that always says neutral.
    refs = ["neu"] * 8 + ["ang"] * 2
    preds = ["neu"] * 10
    assert weighted_accuracy(refs, preds) == pytest.approx(0.8)
    assert unweighted_accuracy(refs, preds) == pytest.approx(0.5)  # (1.0 + 0.0) / 2
    # F1(neu) = 2 * 0.8 * 1 / 1.8; F1(ang) = 0.
    assert macro_f1(refs, preds) == pytest.approx((2 * 0.8 / 1.8 + 0.0) / 2)


def test_ser_scores_match_sklearn_on_random_labels():
    rng = np.random.default_rng(3)
    refs = rng.choice(EMOTIONS, size=300, p=[0.1, 0.2, 0.3, 0.4]).tolist()
    preds = rng.choice(EMOTIONS, size=300).tolist()
    scores = ser_scores(refs, preds)
    assert scores.n == 300
    assert scores.weighted_accuracy == pytest.approx(np.mean(np.array(refs) == np.array(preds)))
    assert scores.unweighted_accuracy == pytest.approx(balanced_accuracy_score(refs, preds))
    assert scores.macro_f1 == pytest.approx(f1_score(refs, preds, average="macro"))


def test_confusion_matrix_rows_are_references_in_emotion_order():
    matrix = confusion_matrix(
        ["ang", "ang", "hap", "sad", "neu"], ["ang", "neu", "hap", "hap", "neu"]
    )
    expected = np.array(
        [
            [1, 0, 0, 1],  # ang -> ang, neu
            [0, 1, 0, 0],  # hap -> hap
            [0, 1, 0, 0],  # sad -> hap
            [0, 0, 0, 1],  # neu -> neu
        ]
    )
    np.testing.assert_array_equal(matrix, expected)
    assert EMOTIONS == ("ang", "hap", "sad", "neu")


def test_ser_edge_cases():
    empty = ser_scores([], [])
    assert empty.n == 0 and math.isnan(empty.weighted_accuracy) and math.isnan(empty.macro_f1)
    with pytest.raises(ValueError, match="predicted label 'exc' is not one of"):
        ser_scores(["hap"], ["exc"])
    with pytest.raises(ValueError, match="2 reference labels but 1 predictions"):
        ser_scores(["hap", "sad"], ["hap"])
