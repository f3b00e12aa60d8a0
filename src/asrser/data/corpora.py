"""Materialised corpora: the clean corpus, six noisy test corpora and the noisy training corpus.

Corpus names: ``clean`` (no audio written; rows point at the IEMOCAP files), ``{type}{snr}`` for
a MUSAN type (noise, music, speech) from the *test* pool at a fixed SNR (``noise15``, ``music5``),
and ``train_noisy`` (the *train* pool; per utterance a type drawn uniformly and an SNR uniform in
`snr_range`). Mixing follows `asrser.data.mixing` (SNR definition, looping, babble, clipping).

Every random choice of an utterance comes from a generator seeded by (seed, corpus, utt_id), so
the output does not depend on the order of the manifest or on the number of worker processes,
and each row records what is needed to recreate its mixture exactly (`recreate_mixture`).
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from asrser import NOISE_TYPES, SAMPLE_RATE
from asrser.common.io import atomic_dir, write_csv
from asrser.data import mixing
from asrser.data.audio import read_audio, write_audio

CORPUS_COLUMNS = [
    "utt_id",
    "speaker",
    "emotion",
    "transcript",
    "audio_path",
    "duration",
    "corpus",
    "noise_type",
    "target_snr_db",
    "realised_snr_db",
    "noise_files",
    "noise_offsets",
    "speech_gain",
    "noise_gain",
    "clip_rescaled",
]
IEMOCAP_COLUMNS = ("utt_id", "speaker", "emotion", "transcript", "audio_path", "duration")
MUSAN_COLUMNS = ("type", "audio_path", "pool")
TEST_CORPUS_PATTERN = re.compile(rf"^({'|'.join(NOISE_TYPES)})(\d+)$")
AUDIO_FORMATS = ("flac", "wav")
PASSED_OVER = "_passed_over"  # a mixing task's silent noise files; reported, not a column

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorpusSpec:
    """What a corpus name means: its MUSAN pool, and a fixed type and SNR (None = drawn)."""

    name: str
    pool: str | None
    noise_type: str | None = None
    snr_db: float | None = None


def corpus_spec(corpus: str) -> CorpusSpec:
    if corpus == "clean":
        return CorpusSpec(corpus, None)
    if corpus == "train_noisy":
        return CorpusSpec(corpus, "train")
    match = TEST_CORPUS_PATTERN.match(corpus)
    if match is None:
        raise ValueError(
            f"unknown corpus {corpus!r}; expected 'clean', 'train_noisy' or <type><snr> with type "
            f"in {NOISE_TYPES} (e.g. 'noise15')"
        )
    return CorpusSpec(corpus, "test", match.group(1), float(match.group(2)))


def utterance_rng(seed: int, corpus: str, utt_id: str) -> np.random.Generator:
    """A generator that depends only on (seed, corpus, utt_id) (a stable hash, not hash())."""
    digest = hashlib.sha256(f"{seed}\0{corpus}\0{utt_id}".encode()).digest()
    return np.random.default_rng(np.random.SeedSequence(int.from_bytes(digest[:16], "little")))


@dataclass
class _MixJob:
    """Everything a worker needs to mix any utterance of one corpus."""

    spec: CorpusSpec
    pools: dict[str, list[str]]
    seed: int
    snr_range: tuple[float, float]
    babble_talkers: tuple[int, int]
    out_dir: str
    extension: str


_JOB: _MixJob | None = None
_BANK: mixing.NoiseBank | None = None


def _init_worker(job: _MixJob) -> None:
    global _JOB, _BANK
    _JOB, _BANK = job, mixing.NoiseBank()


def _mix_task(task: tuple[str, str]) -> dict:
    """Mix one utterance (utt_id, speech path) of the worker's corpus; write it; return its row."""
    utt_id, speech_path = task
    job, bank = _JOB, _BANK
    rng = utterance_rng(job.seed, job.spec.name, utt_id)
    noise_type = job.spec.noise_type or NOISE_TYPES[int(rng.integers(len(NOISE_TYPES)))]
    target = job.spec.snr_db
    if target is None:
        target = float(rng.uniform(*job.snr_range))
    speech = read_audio(speech_path)
    pool = job.pools[noise_type]
    talkers = 1
    if noise_type == "speech":
        talkers = int(rng.integers(job.babble_talkers[0], job.babble_talkers[1] + 1))
    files, offsets, segments, passed_over = [], [], [], []
    for index in mixing.choose_talkers(rng, len(pool), talkers):
        path, offset, segment, silent = mixing.draw_from_pool(rng, bank, pool, index, len(speech))
        files.append(path)
        offsets.append(offset)
        segments.append(segment)
        passed_over += silent
    noise = mixing.combine_segments(segments, noise_type)
    mixture = mixing.mix_at_snr(speech, noise, target, what=f"utterance {utt_id} ({speech_path})")
    write_audio(os.path.join(job.out_dir, f"{utt_id}.{job.extension}"), mixture.samples)
    return {
        "duration": len(speech) / SAMPLE_RATE,
        "noise_type": noise_type,
        "target_snr_db": target,
        "realised_snr_db": mixture.realised_snr_db,
        "noise_files": ";".join(files),
        "noise_offsets": ";".join(str(o) for o in offsets),
        "speech_gain": mixture.speech_gain,
        "noise_gain": mixture.noise_gain,
        "clip_rescaled": mixture.clip_rescaled,
        PASSED_OVER: passed_over,
    }


def _as_frame(manifest: pd.DataFrame | str | os.PathLike, columns, what: str) -> pd.DataFrame:
    if isinstance(manifest, pd.DataFrame):
        frame = manifest
    else:
        frame = pd.read_csv(manifest, dtype={"utt_id": str}, keep_default_na=False)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} manifest lacks columns {missing}")
    return frame


def noise_pools(musan: pd.DataFrame, pool: str) -> dict[str, list[str]]:
    """Audio paths per MUSAN type in one pool, sorted (so row order does not matter)."""
    rows = musan[musan["pool"] == pool]
    pools = {t: sorted(rows.loc[rows["type"] == t, "audio_path"].astype(str)) for t in NOISE_TYPES}
    return pools


def _check_args(snr_range, babble_talkers, audio_format: str, threads: int) -> None:
    low, high = snr_range
    if not low <= high:
        raise ValueError(
            f"data.train_snr_db: expected [low, high] with low <= high, got {snr_range}"
        )
    low, high = babble_talkers
    if not 1 <= low <= high:
        raise ValueError(f"data.babble_talkers: expected 1 <= low <= high, got {babble_talkers}")
    if audio_format not in AUDIO_FORMATS:
        raise ValueError(
            f"data.audio_format: expected one of {AUDIO_FORMATS}, got {audio_format!r}"
        )
    if threads < 1:
        raise ValueError(f"threads: expected >= 1, got {threads}")


def build_corpus(
    iemocap_manifest: pd.DataFrame | str | os.PathLike,
    musan_manifest: pd.DataFrame | str | os.PathLike,
    corpus: str,
    out_dir: str | os.PathLike,
    seed: int,
    snr_range: tuple[float, float] = (5.0, 35.0),
    babble_talkers: tuple[int, int] = (3, 7),
    audio_format: str = "flac",
    threads: int = 1,
    manifest_path: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Write one corpus's audio to `out_dir/<utt_id>.<audio_format>` and return its manifest.

    The audio folder is replaced atomically; the manifest (the "done" marker) is written after it
    when `manifest_path` is given. `clean` writes an empty folder and points at the originals.
    """
    spec = corpus_spec(corpus)
    _check_args(snr_range, babble_talkers, audio_format, threads)
    iemocap = _as_frame(iemocap_manifest, IEMOCAP_COLUMNS, "IEMOCAP")
    out_dir = Path(out_dir)
    rows = iemocap[list(IEMOCAP_COLUMNS)].copy()
    rows["utt_id"] = rows["utt_id"].astype(str)
    rows["corpus"] = corpus

    if spec.pool is None:
        with atomic_dir(out_dir):
            pass
        rows = rows.assign(noise_type="", target_snr_db=np.nan, realised_snr_db=np.nan)
        rows = rows.assign(noise_files="", noise_offsets="", speech_gain=1.0, noise_gain=0.0)
        rows["clip_rescaled"] = False
    else:
        musan = _as_frame(musan_manifest, MUSAN_COLUMNS, "MUSAN")
        pools = noise_pools(musan, spec.pool)
        needed = [spec.noise_type] if spec.noise_type else list(NOISE_TYPES)
        for noise_type in needed:
            if not pools[noise_type]:
                raise ValueError(
                    f"corpus {corpus}: MUSAN manifest has no '{noise_type}' files in pool "
                    f"'{spec.pool}'"
                )
        mixing.check_readable([p for t in needed for p in pools[t]], "MUSAN noise")
        mixing.check_readable(list(rows["audio_path"].astype(str)), "IEMOCAP audio")
        tasks = list(zip(rows["utt_id"], rows["audio_path"].astype(str), strict=True))
        with atomic_dir(out_dir) as tmp:
            job = _MixJob(
                spec,
                pools,
                seed,
                (float(snr_range[0]), float(snr_range[1])),
                (int(babble_talkers[0]), int(babble_talkers[1])),
                str(tmp),
                audio_format,
            )
            mixed = _run_tasks(job, tasks, threads)
        mixed = pd.DataFrame(mixed, index=rows.index)
        _report_silent_noise(corpus, mixed.pop(PASSED_OVER))
        rows = rows.drop(columns=["duration"]).join(mixed)
        rows["audio_path"] = [str(out_dir / f"{u}.{audio_format}") for u in rows["utt_id"]]
    rows = rows[CORPUS_COLUMNS].reset_index(drop=True)
    if manifest_path is not None:
        write_csv(manifest_path, rows)
    return rows


def _report_silent_noise(corpus: str, passed_over: pd.Series) -> None:
    """Warn once per corpus about noise files passed over as silent, with their counts."""
    counts = Counter(path for paths in passed_over for path in paths)
    if counts:
        log.warning(
            "corpus %s: %d noise file(s) were silent in %d random segments and passed over "
            "for the next file of their pool (%d draws): %s",
            corpus,
            len(counts),
            mixing.MAX_SEGMENT_TRIES,
            sum(counts.values()),
            ", ".join(f"{path} ({n}x)" for path, n in counts.most_common()),
        )


def _run_tasks(job: _MixJob, tasks: list[tuple[str, str]], threads: int) -> list[dict]:
    progress = dict(total=len(tasks), desc=f"mix {job.spec.name}", unit="utt", mininterval=5)
    if threads == 1 or len(tasks) < 2:
        _init_worker(job)
        return [_mix_task(task) for task in tqdm(tasks, **progress)]
    # fork: workers inherit the job without re-importing the (Snakemake script) main module.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    chunksize = max(1, min(32, len(tasks) // (threads * 8)))
    with context.Pool(threads, initializer=_init_worker, initargs=(job,)) as pool:
        return list(tqdm(pool.imap(_mix_task, tasks, chunksize=chunksize), **progress))


def recreate_mixture(
    row: Mapping, speech_path: str | os.PathLike, bank: mixing.NoiseBank | None = None
) -> np.ndarray:
    """The int16 samples of a corpus row's audio, rebuilt from the speech and the recorded noise.

    Uses only the row's noise_type, noise_files, noise_offsets and gains (not its random draws).
    """
    speech = read_audio(speech_path)
    noise_type = row["noise_type"]
    if not isinstance(noise_type, str) or noise_type == "":
        return mixing.quantize_pcm16(speech)
    bank = bank or mixing.NoiseBank()
    files = str(row["noise_files"]).split(";")
    offsets = [int(o) for o in str(row["noise_offsets"]).split(";")]
    segments = [bank.segment(f, o, len(speech)) for f, o in zip(files, offsets, strict=True)]
    noise = mixing.combine_segments(segments, noise_type)
    mixture = mixing.apply_gains(speech, noise, float(row["speech_gain"]), float(row["noise_gain"]))
    return mixing.quantize_pcm16(mixture)
