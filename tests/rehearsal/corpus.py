"""The rehearsal's corpora: IEMOCAP- and MUSAN-format trees with IEMOCAP-like durations.

IEMOCAP: 5 sessions x 2 speakers, one utterance per speaker and IEM4 emotion plus one `exc`
(merged into hap), i.e. five per speaker. Durations are drawn from a log-normal shaped like
IEMOCAP's (a long tail) at a shorter median, capped so that no training batch outgrows the
machine (below), and one utterance lasts LONG_SECONDS, over 30 s like IEMOCAP's longest.

Where the long utterance goes. A training step on a 33-s utterance at the paper's size needs
about 23.5 GB in fp32 on the CPU (docs/cluster-and-gpu.md), more than a 24-GiB CI machine has
beside everything else, so it must stay out of the rehearsed fold's training split. In the
fold's test split it would cost 42 full-size inferences of ~14 s each on two cores (about ten
minutes, half the rehearsal). It is therefore one of the fold's VALIDATION utterances: chosen
with the project's own seeded split (asrser.data.folds.split_valid, with the config's seed and
valid_fraction), so it is ingested whole (max_utterance_seconds 40), mixed into all eight
corpora, validated by each of the six trainings, and never trained on. The rehearsal checks
after its run that the fold manifests put it there. In the other nine folds (not rehearsed)
it would be trained on, as the real study trains on IEMOCAP's longest utterances.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for fixtures.py

from fixtures import make_iemocap_tree, make_musan_tree, plan_iemocap_tree  # noqa: E402

from asrser.data.folds import split_valid  # noqa: E402

# IEMOCAP's IEM4 turns: a median of about 3.5 s, a long tail up to ~34 s, and many short ones
# ("Yeah.", "Okay.") under 2 s. The rehearsal draws from a log-normal of that shape at a lower
# median: at the paper's size two CPU cores train on well under a second of audio per second,
# and six trainings must fit the rehearsal's time. They are capped at
# MAX_SECONDS, so that a 32-padded-second batch (train.max_batch_seconds) holds several turns and
# peaks well under the machine's memory (a single 20-s turn takes ~12.7 GB).
MEDIAN_SECONDS = 1.4
SIGMA = 0.5
MIN_SECONDS = 0.6
MAX_SECONDS = 6.0
LONG_SECONDS = 33.0
PER_EMOTION = 1


def iemocap_utterances(merge_exc: bool) -> pd.DataFrame:
    """utt_id, speaker, emotion (as ingestion labels it) of the rehearsal's IEMOCAP tree."""
    rows = [
        {
            "utt_id": utt.utt_id,
            "speaker": utt.speaker,
            "emotion": "hap" if merge_exc and utt.emotion_raw == "exc" else utt.emotion_raw,
        }
        for plan in plan_iemocap_tree(PER_EMOTION, bad_cases=False)
        for utt in plan.utterances
    ]
    return pd.DataFrame(rows)


def long_utterance(config: dict, fold: str) -> str:
    """The validation utterance of `fold` that is made long (see the module doc)."""
    data = config["data"]
    utterances = iemocap_utterances(data["merge_exc_into_hap"])
    pool = utterances[utterances["speaker"] != fold]
    _, valid = split_valid(pool, data["valid_fraction"], data["seed"], fold)
    return sorted(valid)[0]


def durations(config: dict, fold: str, seed: int = 0) -> dict[str, float]:
    """Seconds per utterance: IEMOCAP-like and capped, one of them LONG_SECONDS."""
    ids = sorted(iemocap_utterances(config["data"]["merge_exc_into_hap"])["utt_id"])
    rng = np.random.default_rng(seed)
    drawn = rng.lognormal(np.log(MEDIAN_SECONDS), SIGMA, size=len(ids))
    seconds = {
        utt: round(float(np.clip(s, MIN_SECONDS, MAX_SECONDS)), 2)
        for utt, s in zip(ids, drawn, strict=True)
    }
    seconds[long_utterance(config, fold)] = LONG_SECONDS
    return seconds


def write_corpora(root: Path, config: dict, fold: str) -> dict:
    """Write IEMOCAP/ and musan/ under `root`; return what was written (for the checks)."""
    seconds = durations(config, fold)
    iemocap = make_iemocap_tree(
        root / "IEMOCAP", bad_cases=False, per_emotion=PER_EMOTION, durations=seconds
    )
    # Four files per noise type (two subsets of two), one of them held out for the test
    # conditions by musan_test_fraction; 5-10 s each, looped under longer utterances.
    make_musan_tree(root / "musan", files_per_subset=2, seconds=5.0, bad_cases=False)
    return {
        "iemocap_root": root / "IEMOCAP",
        "musan_root": root / "musan",
        "utterances": len(iemocap.utterances),
        "audio_seconds": sum(seconds.values()),
        "long_utterance": long_utterance(config, fold),
        "durations": seconds,
    }
