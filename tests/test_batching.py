"""What training and pretraining say about the utterances they read (asrser.data.batching)."""

from __future__ import annotations

from asrser.data.batching import LongUtterances


def test_the_long_utterance_report_reads_right_with_and_without_a_cap():
    assert (
        LongUtterances(None).describe("m.csv") == "m.csv: no length cap, every utterance kept whole"
    )
    assert LongUtterances(20.0).describe("m.csv") == "m.csv: no utterance over 20 s"
    report = LongUtterances(1.5, skipped=["a", "b"], split={"c": 3})
    assert report.describe("m.csv") == (
        "m.csv: utterances over 1.5 s: skipped 2 (text model; e.g. a, b); split 1 into 3 chunks "
        "keeping their emotion"
    )
