"""IEMOCAP's folder layout and utterance ids, cheap enough to read while the workflow is planned.

Ingestion (asrser.data.iemocap) reads labels, transcripts and audio headers; the plan-time checks
(asrser.common.corpus_roots.check_corpus_roots) only list folders: which session folders ingestion will miss,
and which speakers have audio. Neither imports anything heavy, as every parse of the Snakefile
runs them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

SESSIONS = (1, 2, 3, 4, 5)
# The folders of each session that ingestion reads (asrser.data.iemocap_files.session_folders).
SESSION_SUBFOLDERS = ("dialog/EmoEvaluation", "dialog/transcriptions", "sentences/wav")
# The speaker is the session plus the letter opening the *last* segment: in dialog Ses01F_impro01
# the utterance Ses01F_impro01_M013 is spoken by the session-1 male. Ids such as ..._MXX0 (turns
# that are not utterances) do not match.
UTTERANCE_ID = re.compile(r"^Ses(?P<session>0[1-5])[FM]_.+_(?P<letter>[FM])\d+$")


def speaker_of(utt_id: str) -> str | None:
    """'Ses01F_impro01_M013' -> 'Ses01M'; None when the id is not an utterance id."""
    match = UTTERANCE_ID.match(utt_id)
    if match is None:
        return None
    return f"Ses{match['session']}{match['letter']}"


def visible_entries(folder: Path) -> list[os.DirEntry]:
    """Entries of `folder` that are not hidden, sorted by name (deterministic order)."""
    with os.scandir(folder) as entries:
        return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)


def wav_entries(folder: Path) -> Iterator[os.DirEntry]:
    """The visible wav files in the visible dialog folders of a sentences/wav folder."""
    for dialog in visible_entries(folder):
        if dialog.is_dir():
            for entry in visible_entries(Path(dialog.path)):
                if entry.name.lower().endswith(".wav") and entry.is_file():
                    yield entry


def missing_folders(root: str | os.PathLike) -> list[str]:
    """The session folders under `root` that ingestion needs and does not find, relative to the
    root (a missing session counts once, not with its subfolders)."""
    missing = []
    for session in SESSIONS:
        folder = Path(root) / f"Session{session}"
        if not folder.is_dir():
            missing.append(folder.name)
            continue
        missing += [
            f"{folder.name}/{sub}" for sub in SESSION_SUBFOLDERS if not (folder / sub).is_dir()
        ]
    return missing


def audio_speakers(root: str | os.PathLike) -> set[str]:
    """The speakers with at least one utterance wav under `root` (one listing per dialog folder;
    no file is opened)."""
    speakers = set()
    for session in SESSIONS:
        folder = Path(root) / f"Session{session}" / "sentences" / "wav"
        if folder.is_dir():
            for entry in wav_entries(folder):
                speaker = speaker_of(entry.name[: -len(".wav")])
                if speaker is not None:
                    speakers.add(speaker)
    return speakers
