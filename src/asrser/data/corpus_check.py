"""A look into the corpus roots beyond the plan's check, for the preflight: cheap, no ingestion.

The workflow's parse already checks that iemocap_root holds Session1 .. Session5 and that
musan_root holds music/, speech/ and noise/ (asrser.common.corpus_roots.check_corpus_roots). This goes one level
deeper, from directory listings and one audio header per session or noise type:

- IEMOCAP: every session holds dialog/EmoEvaluation, dialog/transcriptions and sentences/wav
  (ingestion needs all three), label files and sentence wavs; every configured speaker has wavs;
  the first wav of each session is readable audio.
- MUSAN: each noise type holds wav files in its subsets; the first of each is readable audio.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from asrser.data.audio import AudioError, audio_info
from asrser.data.iemocap_files import input_files, session_folders
from asrser.data.iemocap_layout import SESSIONS, speaker_of
from asrser.data.musan import NOISE_TYPES, list_musan
from asrser.runtime.disk_check import gigabytes


@dataclass
class CorpusFindings:
    """What a look into one corpus root found: a one-line summary and its problems."""

    summary: str = ""
    problems: list[str] = field(default_factory=list)
    audio_bytes: int = 0  # of the audio files ingestion reads


def _readable(path: str | os.PathLike) -> str | None:
    """None when `path` opens as audio with samples, else why not."""
    try:
        info = audio_info(path)
    except AudioError as error:
        return str(error)
    return None if info.frames > 0 else f"{path}: empty audio (0 samples)"


def _bytes(paths: list[str]) -> int:
    total = 0
    for path in paths:
        try:
            total += os.stat(path).st_size
        except OSError:
            continue
    return total


def look_into_iemocap(root: str | os.PathLike, speakers: list[str]) -> CorpusFindings:
    """IEMOCAP at `root` for the configured `speakers` (config key speakers)."""
    found = CorpusFindings()
    try:
        session_folders(root)
    except FileNotFoundError as error:
        found.problems.append(f"config key 'iemocap_root': {error}")
        return found
    files = input_files(root)
    wavs = [path for path in files if path.lower().endswith(".wav")]
    found.audio_bytes = _bytes(wavs)
    labels = Counter()
    wavs_by_session: dict[int, list[str]] = {session: [] for session in SESSIONS}
    for path in files:
        session = int(Path(path).relative_to(root).parts[0].removeprefix("Session"))
        if path.lower().endswith(".wav"):
            wavs_by_session[session].append(path)
        elif Path(path).parent.name == "EmoEvaluation":
            labels[session] += 1
    for session, paths in wavs_by_session.items():
        if not labels[session]:
            found.problems.append(
                f"config key 'iemocap_root': Session{session}/dialog/EmoEvaluation holds no label "
                "files (*.txt)"
            )
        if not paths:
            found.problems.append(
                f"config key 'iemocap_root': Session{session}/sentences/wav holds no wav files"
            )
        elif problem := _readable(sorted(paths)[0]):
            found.problems.append(f"config key 'iemocap_root': {problem}")
    per_speaker = Counter(speaker_of(Path(path).stem) for path in wavs)
    missing = [speaker for speaker in speakers if not per_speaker[speaker]]
    if missing:
        found.problems.append(
            f"config key 'speakers': no sentence wavs of {', '.join(missing)} under "
            f"'{root}' (wav names such as Ses01F_impro01_F000 name their speaker)"
        )
    found.summary = (
        f"{len(SESSIONS)} sessions, {sum(labels.values())} label files, {len(wavs)} sentence wavs "
        f"({gigabytes(found.audio_bytes)}), {len(speakers) - len(missing)} of the "
        f"{len(speakers)} configured speakers with wavs"
    )
    return found


def look_into_musan(root: str | os.PathLike) -> CorpusFindings:
    """MUSAN at `root`: every noise type has readable wavs."""
    found = CorpusFindings()
    try:
        files, _ = list_musan(root)
    except FileNotFoundError as error:
        found.problems.append(f"config key 'musan_root': {error}")
        return found
    found.audio_bytes = _bytes([str(item.path) for item in files])
    counts = Counter(item.type for item in files)
    for kind in sorted(NOISE_TYPES):
        paths = sorted(str(item.path) for item in files if item.type == kind)
        if not paths:
            found.problems.append(
                f"config key 'musan_root': {kind}/ holds no wav files in its subsets "
                f"({kind}/<subset>/*.wav)"
            )
        elif problem := _readable(paths[0]):
            found.problems.append(f"config key 'musan_root': {problem}")
    found.summary = ", ".join(f"{kind} {counts[kind]} wavs" for kind in sorted(NOISE_TYPES))
    found.summary += f" ({gigabytes(found.audio_bytes)})"
    return found
