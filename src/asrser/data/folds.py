"""Leave-one-speaker-out fold manifests.

Fold ids are IEMOCAP speaker ids (``Ses03M``): fold k tests on that speaker's utterances and
trains on the other nine. Validation (for model selection) is a seeded subset of those nine
speakers' utterances, stratified by emotion: within each emotion, ``round(valid_fraction * n)``
utterances (at least one, and never all, when the emotion has two or more) are drawn without
replacement by a generator seeded from (seed, fold), out of that emotion's utterance ids in sorted
order, so the split does not depend on manifest row order. The noisy training split uses exactly
the utt_ids of the clean one.

Per fold one CSV per manifest name (`fold_manifest_names`): train_clean, valid_clean,
train_noisy, valid_noisy (rows of the ``clean`` and ``train_noisy`` corpora) and test_{condition}
for the seven test conditions (rows of the corpus of that name). Columns: the corpus columns with
the utterance's session and gender inserted after ``speaker``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from asrser import TEST_CONDITIONS, TRAIN_CONDITIONS
from asrser.common.io import write_csv

TRAIN_CORPUS = {"clean": "clean", "noisy": "train_noisy"}
REQUIRED_CORPORA = (*TEST_CONDITIONS, "train_noisy")


def fold_manifest_names() -> list[str]:
    splits = [f"{split}_{train}" for train in TRAIN_CONDITIONS for split in ("train", "valid")]
    return splits + [f"test_{condition}" for condition in TEST_CONDITIONS]


def _frame(source: pd.DataFrame | str | os.PathLike, what: str) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    try:
        return pd.read_csv(source, dtype={"utt_id": str}, keep_default_na=False)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{what}: manifest not found: {source}") from exc


def _fold_rng(seed: int, fold: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}\0valid\0{fold}".encode()).digest()
    return np.random.default_rng(np.random.SeedSequence(int.from_bytes(digest[:16], "little")))


def split_valid(
    pool: pd.DataFrame, valid_fraction: float, seed: int, fold: str
) -> tuple[list[str], list[str]]:
    """(train ids, valid ids) of `pool` (columns utt_id, emotion), stratified by emotion."""
    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(
            f"data.valid_fraction: expected a fraction in (0, 1), got {valid_fraction}"
        )
    rng = _fold_rng(seed, fold)
    valid: set[str] = set()
    for emotion in sorted(pool["emotion"].unique()):
        ids = sorted(pool.loc[pool["emotion"] == emotion, "utt_id"].astype(str))
        if len(ids) < 2:
            continue
        n_valid = min(max(round(valid_fraction * len(ids)), 1), len(ids) - 1)
        valid.update(rng.choice(ids, size=n_valid, replace=False).tolist())
    order = pool["utt_id"].astype(str)
    return [u for u in order if u not in valid], [u for u in order if u in valid]


def make_fold(
    corpora: Mapping[str, pd.DataFrame | str | os.PathLike],
    iemocap_manifest: pd.DataFrame | str | os.PathLike,
    fold: str,
    valid_fraction: float,
    seed: int,
    out_dir: str | os.PathLike | None = None,
) -> dict[str, pd.DataFrame]:
    """The manifests of one fold (name -> frame); written to `out_dir/<name>.csv` when given.

    `corpora` maps each corpus name (clean, the six noisy test corpora, train_noisy) to its
    manifest (frame or CSV path).
    """
    iemocap = _frame(iemocap_manifest, "IEMOCAP")
    speakers = sorted(iemocap["speaker"].astype(str).unique())
    if fold not in speakers:
        raise ValueError(f"unknown fold {fold!r}: fold ids are the speakers {speakers}")
    missing = [c for c in REQUIRED_CORPORA if c not in corpora]
    if missing:
        raise ValueError(f"fold {fold}: corpus manifests missing for {missing}")

    speakers_info = iemocap[["utt_id", "session", "speaker", "gender", "emotion"]].copy()
    speakers_info["utt_id"] = speakers_info["utt_id"].astype(str)
    is_test = speakers_info["speaker"] == fold
    test_ids = list(speakers_info.loc[is_test, "utt_id"])
    train_ids, valid_ids = split_valid(speakers_info[~is_test], valid_fraction, seed, fold)

    frames = {}
    for name in REQUIRED_CORPORA:
        frame = _frame(corpora[name], f"corpus {name}")
        frame = frame.assign(utt_id=frame["utt_id"].astype(str)).set_index("utt_id")
        if frame.index.has_duplicates:
            duplicate = frame.index[frame.index.duplicated()][0]
            raise ValueError(f"corpus {name}: utterance {duplicate} appears more than once")
        absent = speakers_info.loc[~speakers_info["utt_id"].isin(frame.index), "utt_id"]
        if len(absent):
            raise ValueError(
                f"corpus {name} lacks {len(absent)} IEMOCAP utterances (e.g. {absent.iloc[0]})"
            )
        frames[name] = frame

    extra = speakers_info.set_index("utt_id")[["session", "gender"]]

    def select(corpus: str, ids: list[str]) -> pd.DataFrame:
        rows = frames[corpus].loc[ids].join(extra).reset_index()
        columns = [c for c in rows.columns if c not in ("session", "gender")]
        at = columns.index("speaker") + 1
        return rows[columns[:at] + ["session", "gender"] + columns[at:]]

    manifests = {}
    for train, corpus in TRAIN_CORPUS.items():
        manifests[f"train_{train}"] = select(corpus, train_ids)
        manifests[f"valid_{train}"] = select(corpus, valid_ids)
    for condition in TEST_CONDITIONS:
        manifests[f"test_{condition}"] = select(condition, test_ids)
    manifests = {name: manifests[name] for name in fold_manifest_names()}

    if out_dir is not None:
        for name, frame in manifests.items():
            write_csv(Path(out_dir) / f"{name}.csv", frame)
    return manifests
