"""Leave-one-speaker-out fold manifests (manifests only; no audio needed)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from asrser import EMOTIONS, TEST_CONDITIONS
from asrser.data.corpora import CORPUS_COLUMNS
from asrser.data.folds import fold_manifest_names, make_fold, split_valid

SPEAKERS = [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"]
CORPORA = (*TEST_CONDITIONS, "train_noisy")
VALID_FRACTION = 0.2


def make_iemocap() -> pd.DataFrame:
    """Ten speakers with unequal emotion counts (as in IEMOCAP), rows in a shuffled order."""
    rng = np.random.default_rng(0)
    rows = []
    for speaker in SPEAKERS:
        for e, emotion in enumerate(EMOTIONS):
            for i in range(3 + e * 2 + int(rng.integers(0, 3))):
                utt_id = f"{speaker}_impro0{e}_{speaker[-1]}{i:03d}"
                rows.append(
                    {
                        "utt_id": utt_id,
                        "session": int(speaker[4]),
                        "speaker": speaker,
                        "gender": speaker[-1],
                        "emotion": emotion,
                        "transcript": "NA",  # a word pandas would read as missing by default
                        "audio_path": f"iemocap/{utt_id}.wav",
                        "duration": 1.5,
                    }
                )
    frame = pd.DataFrame(rows)
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def make_corpus(iemocap: pd.DataFrame, corpus: str) -> pd.DataFrame:
    frame = iemocap[["utt_id", "speaker", "emotion", "transcript", "duration"]].copy()
    frame["audio_path"] = [f"corpora/{corpus}/{u}.flac" for u in frame["utt_id"]]
    frame["corpus"] = corpus
    noisy = corpus != "clean"
    frame["noise_type"] = corpus.rstrip("0123456789") if noisy else ""
    frame["target_snr_db"] = 10.0 if noisy else np.nan
    frame["realised_snr_db"] = 10.01 if noisy else np.nan
    frame["noise_files"] = "musan/a.wav" if noisy else ""
    frame["noise_offsets"] = "17" if noisy else ""
    frame["speech_gain"] = 1.0
    frame["noise_gain"] = 0.5 if noisy else 0.0
    frame["clip_rescaled"] = False
    return frame[CORPUS_COLUMNS].sample(frac=1.0, random_state=1)  # order must not matter


@pytest.fixture(scope="module")
def data():
    iemocap = make_iemocap()
    return iemocap, {corpus: make_corpus(iemocap, corpus) for corpus in CORPORA}


def test_manifest_names_match_the_workflow():
    assert fold_manifest_names() == [
        "train_clean",
        "valid_clean",
        "train_noisy",
        "valid_noisy",
        *(f"test_{c}" for c in TEST_CONDITIONS),
    ]


def test_fold_files_and_columns(data, tmp_path):
    iemocap, corpora = data
    paths = {}
    for corpus, frame in corpora.items():  # from CSV paths, as the workflow passes them
        paths[corpus] = tmp_path / f"{corpus}.csv"
        frame.to_csv(paths[corpus], index=False)
    iemocap_path = tmp_path / "iemocap.csv"
    iemocap.to_csv(iemocap_path, index=False)
    manifests = make_fold(paths, iemocap_path, "Ses03M", VALID_FRACTION, 7, tmp_path / "Ses03M")
    assert sorted(p.stem for p in (tmp_path / "Ses03M").iterdir()) == sorted(fold_manifest_names())
    written = pd.read_csv(tmp_path / "Ses03M" / "test_music5.csv", keep_default_na=False)
    expected = CORPUS_COLUMNS[:2] + ["session", "gender"] + CORPUS_COLUMNS[2:]
    assert list(written.columns) == expected
    assert (written["transcript"] == "NA").all()
    assert (written["audio_path"].str.startswith("corpora/music5/")).all()
    assert manifests["train_clean"]["audio_path"].str.startswith("corpora/clean/").all()
    assert (manifests["train_noisy"]["corpus"] == "train_noisy").all()
    assert (manifests["valid_clean"]["corpus"] == "clean").all()


@pytest.mark.parametrize("fold", SPEAKERS)
def test_test_speaker_is_held_out(data, fold):
    iemocap, corpora = data
    manifests = make_fold(corpora, iemocap, fold, VALID_FRACTION, 7)
    for name, frame in manifests.items():
        if name.startswith("test_"):
            assert (frame["speaker"] == fold).all()
            assert set(frame["utt_id"]) == set(iemocap.loc[iemocap["speaker"] == fold, "utt_id"])
        else:
            assert fold not in set(frame["speaker"])
    train, valid = set(manifests["train_clean"]["utt_id"]), set(manifests["valid_clean"]["utt_id"])
    assert not train & valid
    assert train | valid == set(iemocap.loc[iemocap["speaker"] != fold, "utt_id"])
    for split in ("train", "valid"):
        clean, noisy = manifests[f"{split}_clean"], manifests[f"{split}_noisy"]
        assert list(clean["utt_id"]) == list(noisy["utt_id"])


def test_every_utterance_is_tested_exactly_once_across_folds(data):
    iemocap, corpora = data
    tested = Counter()
    for fold in SPEAKERS:
        tested.update(make_fold(corpora, iemocap, fold, VALID_FRACTION, 7)["test_clean"]["utt_id"])
    assert set(tested) == set(iemocap["utt_id"]) and set(tested.values()) == {1}


def test_valid_is_stratified_by_emotion_and_seeded(data):
    iemocap, corpora = data
    pool = iemocap[iemocap["speaker"] != "Ses01F"]
    first = make_fold(corpora, iemocap, "Ses01F", VALID_FRACTION, 7)
    valid = first["valid_clean"]
    for emotion in EMOTIONS:
        n = (pool["emotion"] == emotion).sum()
        assert (valid["emotion"] == emotion).sum() == round(VALID_FRACTION * n)
    again = make_fold(corpora, iemocap.iloc[::-1], "Ses01F", VALID_FRACTION, 7)
    assert set(again["valid_clean"]["utt_id"]) == set(valid["utt_id"])  # row order is irrelevant
    other = make_fold(corpora, iemocap, "Ses01F", VALID_FRACTION, 8)
    assert set(other["valid_clean"]["utt_id"]) != set(valid["utt_id"])


def test_small_emotions_keep_training_examples():
    pool = pd.DataFrame({"utt_id": ["a", "b", "c"], "emotion": ["ang", "sad", "sad"]})
    train, valid = split_valid(pool, 0.1, 0, "Ses01F")
    assert "a" in train and len(valid) == 1 and len(train) == 2


def test_unknown_fold_lists_the_valid_ones(data):
    iemocap, corpora = data
    with pytest.raises(ValueError, match=r"unknown fold 'Ses06F'.*Ses01F.*Ses05M"):
        make_fold(corpora, iemocap, "Ses06F", VALID_FRACTION, 7)


def test_incomplete_corpora_are_rejected(data):
    iemocap, corpora = data
    partial = {k: v for k, v in corpora.items() if k != "speech5"}
    with pytest.raises(ValueError, match=r"missing for \['speech5'\]"):
        make_fold(partial, iemocap, "Ses01F", VALID_FRACTION, 7)
    short = dict(corpora, noise5=corpora["noise5"].iloc[1:])
    with pytest.raises(ValueError, match="corpus noise5 lacks 1 IEMOCAP utterances"):
        make_fold(short, iemocap, "Ses01F", VALID_FRACTION, 7)
    doubled = dict(corpora, clean=pd.concat([corpora["clean"], corpora["clean"].iloc[:1]]))
    with pytest.raises(ValueError, match="appears more than once"):
        make_fold(doubled, iemocap, "Ses01F", VALID_FRACTION, 7)
