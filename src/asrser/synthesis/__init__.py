"""The embedded synthetic data: an IEMOCAP-format corpus, a MUSAN-layout noise bank and a separate
pretraining corpus, all offline and deterministic from a seed (speech by eSpeak NG, see espeak.py).
"""

from __future__ import annotations

import os

from asrser.synthesis.iemocap_corpus import write_iemocap_corpus
from asrser.synthesis.musan_bank import write_musan_bank
from asrser.synthesis.pretrain_corpus import write_pretrain_corpus

__all__ = [
    "write_embedded_corpus",
    "write_iemocap_corpus",
    "write_musan_bank",
    "write_pretrain_corpus",
]


def write_embedded_corpus(
    iemocap_root: str | os.PathLike,
    musan_root: str | os.PathLike,
    synthetic: dict,
    processes: int = 1,
) -> dict:
    """Write both corpora of config key `synthetic` (seed, utterances_per_emotion,
    musan_files_per_type, musan_file_seconds); returns their summaries."""
    missing = {"seed", "utterances_per_emotion", "musan_files_per_type", "musan_file_seconds"}
    missing -= set(synthetic)
    if missing:
        raise KeyError(f"config key 'synthetic' lacks {sorted(missing)}")
    iemocap = write_iemocap_corpus(
        iemocap_root,
        seed=synthetic["seed"],
        utterances_per_emotion=synthetic["utterances_per_emotion"],
        processes=processes,
    )
    musan = write_musan_bank(
        musan_root,
        seed=synthetic["seed"],
        files_per_type=synthetic["musan_files_per_type"],
        seconds=synthetic["musan_file_seconds"],
    )
    return {"iemocap": iemocap, "musan": musan}
