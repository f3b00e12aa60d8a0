"""Reading the files of an IEMOCAP release: label lines, transcription lines, the wav index.

Layout read (per session folder `Session1` .. `Session5` under the release root):
  dialog/EmoEvaluation/*.txt    label lines "[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[...]"
                                (its Categorical/, Attribute/, Self-evaluation/ subfolders are not read)
  dialog/transcriptions/*.txt   "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me."
  sentences/wav/<dialog>/<utterance>.wav
Hidden files (macOS `._*` forks) are never read. What reading meets that points at a damaged copy
(unreadable files, label files without a label line, damaged utterance ids) is noted in a
`Findings`; asrser.data.iemocap turns these into the manifest, the summary and the warnings.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from asrser.data.iemocap_layout import SESSION_SUBFOLDERS, SESSIONS, speaker_of
from asrser.data.iemocap_layout import visible_entries as _visible_entries
from asrser.data.iemocap_layout import wav_entries as _wav_entries

log = logging.getLogger(__name__)

_NUMBER = r"\d+(?:\.\d*)?"
_LABEL_LINE = re.compile(
    rf"^\[\s*(?P<start>{_NUMBER})\s*-\s*(?P<end>{_NUMBER})\s*\]\s+(?P<utt>\S+)\s+(?P<label>[A-Za-z]+)\b"
)
_TRANSCRIPT_LINE = re.compile(
    rf"^(?P<utt>\S+)\s*\[\s*{_NUMBER}\s*-\s*{_NUMBER}\s*\]\s*:\s?(?P<text>.*)$"
)
# IEMOCAP ids are printable ASCII; anything else in one (U+FFFD from a byte that is not UTF-8,
# a surrogate-escaped byte of a file name) is damage, not another utterance.
_DAMAGED = re.compile(r"[^\x21-\x7e]")


@dataclass(frozen=True)
class LabelLine:
    utt_id: str
    emotion_raw: str
    start: float
    end: float
    source: Path


def is_damaged(utt_id: str) -> bool:
    """True when an id holds a character no IEMOCAP id has (see _DAMAGED)."""
    return _DAMAGED.search(utt_id) is not None


def printable(text: str) -> str:
    """`text` as a log file or JSON can hold it: the bytes of a file name that is not UTF-8
    (which Python holds as surrogate escapes) written as \\xNN."""
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def _count_hidden(folder: Path) -> int:
    with os.scandir(folder) as entries:
        return sum(1 for e in entries if e.name.startswith("."))


def _text_files(folder: Path) -> list[Path]:
    """The visible *.txt files directly in `folder` (subfolders are not descended into)."""
    return [
        Path(e.path) for e in _visible_entries(folder) if e.is_file() and e.name.endswith(".txt")
    ]


@dataclass
class Findings:
    """What reading met that points at a damaged copy (for the summary and the warnings)."""

    unreadable_files: list[str] = field(default_factory=list)
    label_files_without_labels: list[str] = field(default_factory=list)
    damaged_ids: list[str] = field(default_factory=list)  # "<file>:<line>: <id>", or a wav path
    short_audio: list[str] = field(default_factory=list)  # wav path, its duration and span
    audio_without_label: list[str] = field(default_factory=list)  # wav paths

    def damaged(self, utt_id: str, path: Path, line_number: int | None = None) -> None:
        """A damaged id, named by its file, line and the id as read; a wav's by its path."""
        if line_number is None:
            self.damaged_ids.append(printable(str(path)))
        else:
            self.damaged_ids.append(f"{printable(str(path))}:{line_number}: {printable(utt_id)}")


def _read_lines(path: Path, findings: Findings) -> list[str] | None:
    """The file's lines; None (warned, counted) when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except OSError as exc:
        log.warning("%s: cannot read (%s); its lines are skipped", printable(str(path)), exc)
        findings.unreadable_files.append(printable(str(path)))
        return None


def read_label_lines(folder: Path, findings: Findings) -> list[LabelLine]:
    """Label lines of the EmoEvaluation files directly in `folder`; other lines are skipped.
    A readable file without any label line is noted in `findings`."""
    labels = []
    for path in _text_files(folder):
        lines = _read_lines(path, findings)
        if lines is None:
            continue
        before = len(labels)
        for number, line in enumerate(lines, start=1):
            match = _LABEL_LINE.match(line.strip())
            if match:
                if is_damaged(match["utt"]):
                    findings.damaged(match["utt"], path, number)
                labels.append(
                    LabelLine(
                        utt_id=match["utt"],
                        emotion_raw=match["label"].lower(),
                        start=float(match["start"]),
                        end=float(match["end"]),
                        source=path,
                    )
                )
        if len(labels) == before:
            findings.label_files_without_labels.append(printable(str(path)))
    return labels


def read_transcripts(folder: Path, findings: Findings) -> dict[str, str]:
    """Utterance id -> raw transcript; turns that are not utterances (…_MXX0, no timestamp)
    skipped, lines whose id is damaged noted in `findings`."""
    transcripts: dict[str, str] = {}
    for path in _text_files(folder):
        for number, line in enumerate(_read_lines(path, findings) or (), start=1):
            match = _TRANSCRIPT_LINE.match(line.strip())
            if match is None:
                continue
            if is_damaged(match["utt"]):
                findings.damaged(match["utt"], path, number)
            elif speaker_of(match["utt"]) is not None:
                transcripts.setdefault(match["utt"], match["text"].strip())
    return transcripts


def index_audio(folder: Path, findings: Findings) -> tuple[dict[str, Path], int]:
    """Utterance id -> wav path under sentences/wav/<dialog>/, and the number of hidden files;
    a wav whose name is damaged is noted in `findings` (and indexed: no label names it)."""
    audio: dict[str, Path] = {}
    hidden = _count_hidden(folder) + sum(
        _count_hidden(Path(e.path)) for e in _visible_entries(folder) if e.is_dir()
    )
    for entry in _wav_entries(folder):
        utt_id = entry.name[: -len(".wav")]
        if is_damaged(utt_id):
            findings.damaged(utt_id, Path(entry.path))
        audio.setdefault(utt_id, Path(entry.path))
    return audio, hidden


def input_files(root: str | os.PathLike) -> list[str]:
    """Every file parse_iemocap reads under `root` (label and transcription files, wavs), for
    noticing an edit of the corpus; folders that do not exist are passed over."""
    files = []
    for session in SESSIONS:
        folder = Path(root) / f"Session{session}"
        for sub in ("dialog/EmoEvaluation", "dialog/transcriptions"):
            if (folder / sub).is_dir():
                files += map(str, _text_files(folder / sub))
        if (folder / "sentences" / "wav").is_dir():
            files += (entry.path for entry in _wav_entries(folder / "sentences" / "wav"))
    return files


def session_folders(root: str | os.PathLike) -> list[Path]:
    """Session1 .. Session5 under `root` with the folders the parser reads; errors name the path."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"IEMOCAP root '{root}' is not a directory; expected the release root holding "
            "Session1 .. Session5"
        )
    folders = [root / f"Session{n}" for n in SESSIONS]
    if not any(folder.is_dir() for folder in folders):
        raise FileNotFoundError(
            f"IEMOCAP root '{root}' has no Session1 .. Session5 folders; expected the release root "
            "(e.g. IEMOCAP_full_release)"
        )
    for folder in folders:
        for sub in ("", *SESSION_SUBFOLDERS):
            if not (folder / sub).is_dir():
                raise FileNotFoundError(
                    f"IEMOCAP: missing folder '{folder / sub}'; every session needs "
                    "dialog/EmoEvaluation, dialog/transcriptions and sentences/wav"
                )
    return folders
