"""IEMOCAP ingestion: labels, transcripts and audio headers of the release's on-disk format.

Layout read (per session folder `Session1` .. `Session5` under the release root):
  dialog/EmoEvaluation/*.txt    label lines "[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[...]"
                                (its Categorical/, Attribute/, Self-evaluation/ subfolders are not read)
  dialog/transcriptions/*.txt   "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me."
  sentences/wav/<dialog>/<utterance>.wav
Hidden files (macOS `._*` forks) are never read. Every labelled utterance is either kept or counted
under exactly one drop reason (the first that applies, in DROP_REASONS order); audio files with no
label line are counted too, so nothing is dropped silently.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from asrser import EMOTIONS
from asrser.audio import AudioError, audio_info
from asrser.text import normalize_transcript, unspellable_letters

log = logging.getLogger(__name__)

SESSIONS = (1, 2, 3, 4, 5)
MANIFEST_COLUMNS = (
    "utt_id",
    "session",
    "speaker",
    "gender",
    "emotion",
    "emotion_raw",
    "dialog",
    "start",
    "end",
    "transcript_raw",
    "transcript",
    "audio_path",
    "duration",
    "sample_rate",
)
DROP_REASONS = (
    "bad_utterance_id",  # a label line whose id is not of the form Ses01F_<dialog>_M013
    "duplicate_label",  # a second label line for an utterance already labelled
    "label_not_iem4",
    "no_transcript",
    "missing_audio",
    "unreadable_audio",  # includes empty (0-sample) files
    "audio_without_label",  # a wav file no label line refers to
)
EXAMPLES_PER_REASON = 5

_NUMBER = r"\d+(?:\.\d*)?"
_LABEL_LINE = re.compile(
    rf"^\[\s*(?P<start>{_NUMBER})\s*-\s*(?P<end>{_NUMBER})\s*\]\s+(?P<utt>\S+)\s+(?P<label>[A-Za-z]+)\b"
)
_TRANSCRIPT_LINE = re.compile(
    rf"^(?P<utt>\S+)\s*\[\s*{_NUMBER}\s*-\s*{_NUMBER}\s*\]\s*:\s?(?P<text>.*)$"
)
# The speaker is the session plus the letter opening the *last* segment: in dialog Ses01F_impro01
# the utterance Ses01F_impro01_M013 is spoken by the session-1 male. Ids such as ..._MXX0 (turns
# that are not utterances) do not match.
_UTTERANCE_ID = re.compile(r"^Ses(?P<session>0[1-5])[FM]_.+_(?P<letter>[FM])\d+$")


@dataclass(frozen=True)
class LabelLine:
    utt_id: str
    emotion_raw: str
    start: float
    end: float
    source: Path


def speaker_of(utt_id: str) -> str | None:
    """'Ses01F_impro01_M013' -> 'Ses01M'; None when the id is not an utterance id."""
    match = _UTTERANCE_ID.match(utt_id)
    if match is None:
        return None
    return f"Ses{match['session']}{match['letter']}"


def iem4_emotion(emotion_raw: str, merge_exc: bool = True) -> str | None:
    """The IEM4 class of an annotated label, or None when the utterance is not in IEM4."""
    if emotion_raw in EMOTIONS:
        return emotion_raw
    if merge_exc and emotion_raw == "exc":
        return "hap"
    return None


def _visible_entries(folder: Path) -> list[os.DirEntry]:
    """Entries of `folder` that are not hidden, sorted by name (deterministic order)."""
    with os.scandir(folder) as entries:
        return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)


def _count_hidden(folder: Path) -> int:
    with os.scandir(folder) as entries:
        return sum(1 for e in entries if e.name.startswith("."))


def _text_files(folder: Path) -> list[Path]:
    """The visible *.txt files directly in `folder` (subfolders are not descended into)."""
    return [
        Path(e.path) for e in _visible_entries(folder) if e.is_file() and e.name.endswith(".txt")
    ]


def _read_lines(path: Path, unreadable_files: list[str]) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except OSError as exc:
        log.warning("%s: cannot read (%s); its lines are skipped", path, exc)
        unreadable_files.append(str(path))
        return []


def read_label_lines(folder: Path, unreadable_files: list[str]) -> list[LabelLine]:
    """Label lines of the EmoEvaluation files directly in `folder`; other lines are skipped."""
    labels = []
    for path in _text_files(folder):
        for line in _read_lines(path, unreadable_files):
            match = _LABEL_LINE.match(line.strip())
            if match:
                labels.append(
                    LabelLine(
                        utt_id=match["utt"],
                        emotion_raw=match["label"].lower(),
                        start=float(match["start"]),
                        end=float(match["end"]),
                        source=path,
                    )
                )
    return labels


def read_transcripts(folder: Path, unreadable_files: list[str]) -> dict[str, str]:
    """Utterance id -> raw transcript; turns that are not utterances (…_MXX0, no timestamp) skipped."""
    transcripts: dict[str, str] = {}
    for path in _text_files(folder):
        for line in _read_lines(path, unreadable_files):
            match = _TRANSCRIPT_LINE.match(line.strip())
            if match and speaker_of(match["utt"]) is not None:
                transcripts.setdefault(match["utt"], match["text"].strip())
    return transcripts


def index_audio(folder: Path) -> tuple[dict[str, Path], int]:
    """Utterance id -> wav path under sentences/wav/<dialog>/, and the number of hidden files."""
    audio: dict[str, Path] = {}
    hidden = _count_hidden(folder)
    for dialog in _visible_entries(folder):
        if not dialog.is_dir():
            continue
        hidden += _count_hidden(Path(dialog.path))
        for entry in _visible_entries(Path(dialog.path)):
            if entry.name.lower().endswith(".wav") and entry.is_file():
                audio.setdefault(entry.name[: -len(".wav")], Path(entry.path))
    return audio, hidden


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
        for sub in ("", "dialog/EmoEvaluation", "dialog/transcriptions", "sentences/wav"):
            if not (folder / sub).is_dir():
                raise FileNotFoundError(
                    f"IEMOCAP: missing folder '{folder / sub}'; every session needs "
                    "dialog/EmoEvaluation, dialog/transcriptions and sentences/wav"
                )
    return folders


class _DropLog:
    """Counts dropped utterances by reason and keeps a few example ids of each."""

    def __init__(self) -> None:
        self.counts = Counter({reason: 0 for reason in DROP_REASONS})
        self.examples: dict[str, list[str]] = defaultdict(list)

    def drop(self, reason: str, utt_id: str) -> None:
        self.counts[reason] += 1
        if len(self.examples[reason]) < EXAMPLES_PER_REASON:
            self.examples[reason].append(utt_id)


def parse_iemocap(
    root: str | os.PathLike,
    merge_exc: bool = True,
    expected_speakers: list[str] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Parse an IEMOCAP release into the IEM4 manifest (MANIFEST_COLUMNS) and a summary dict.

    `expected_speakers` (the config's fold ids) must equal the speakers of the kept utterances,
    otherwise ValueError listing the missing and unexpected ones.
    """
    root = Path(root)
    folders = session_folders(root)
    unreadable_files: list[str] = []
    labels: list[LabelLine] = []
    transcripts: dict[str, str] = {}
    audio: dict[str, Path] = {}
    hidden_files = 0
    for folder in folders:
        emo_dir = folder / "dialog" / "EmoEvaluation"
        labels += read_label_lines(emo_dir, unreadable_files)
        hidden_files += _count_hidden(emo_dir)
        trans_dir = folder / "dialog" / "transcriptions"
        transcripts.update(read_transcripts(trans_dir, unreadable_files))
        hidden_files += _count_hidden(trans_dir)
        session_audio, hidden = index_audio(folder / "sentences" / "wav")
        audio.update(session_audio)
        hidden_files += hidden
    if not labels:
        raise ValueError(
            f"IEMOCAP root '{root}': no label lines found in Session*/dialog/EmoEvaluation/*.txt; "
            "expected lines like '[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[...]'"
        )

    drops = _DropLog()
    labelled: set[str] = set()
    candidates: list[tuple[LabelLine, str, Path]] = []
    for label in labels:
        if speaker_of(label.utt_id) is None:
            drops.drop("bad_utterance_id", label.utt_id)
            continue
        if label.utt_id in labelled:
            drops.drop("duplicate_label", label.utt_id)
            continue
        labelled.add(label.utt_id)
        emotion = iem4_emotion(label.emotion_raw, merge_exc)
        if emotion is None:
            drops.drop("label_not_iem4", label.utt_id)
        elif label.utt_id not in transcripts:
            drops.drop("no_transcript", label.utt_id)
        elif label.utt_id not in audio:
            drops.drop("missing_audio", label.utt_id)
        else:
            candidates.append((label, emotion, audio[label.utt_id]))
    for utt_id in sorted(set(audio) - labelled):
        drops.drop("audio_without_label", utt_id)

    rows = []
    for label, emotion, path in tqdm(
        candidates, desc="IEMOCAP audio headers", unit="file", mininterval=2.0
    ):
        try:
            info = audio_info(path)
        except AudioError as exc:
            log.warning("%s", exc)
            drops.drop("unreadable_audio", label.utt_id)
            continue
        if info.frames == 0:
            log.warning("%s: empty audio (0 samples)", path)
            drops.drop("unreadable_audio", label.utt_id)
            continue
        rows.append(_manifest_row(label, emotion, transcripts[label.utt_id], path, info))

    frame = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    frame = frame.sort_values("utt_id", kind="stable").reset_index(drop=True)
    summary = _summary(root, frame, drops, merge_exc, len(labels), hidden_files, unreadable_files)
    if summary["transcripts_with_digits"]:
        # The CTC alphabet has no digits and normalize_transcript drops them: "5" spoken as
        # FIVE would then score as an insertion against every model.
        log.warning(
            "IEMOCAP root '%s': %d transcripts hold digits, which are left out of the references "
            "(e.g. %s); spell the numbers out in the transcription files to score them",
            root,
            summary["transcripts_with_digits"],
            ", ".join(summary["digit_examples"]),
        )
    if summary["transcripts_with_unspellable_letters"]:
        # Letters outside the Latin alphabet (or U+FFFD from a file that is not UTF-8) become
        # word breaks, so the references lose those words.
        log.warning(
            "IEMOCAP root '%s': %d transcripts hold letters the encoder's alphabet cannot spell "
            "(%s; e.g. %s), which are left out of the references; a '\ufffd' means a "
            "transcription file is not UTF-8",
            root,
            summary["transcripts_with_unspellable_letters"],
            summary["unspellable_letters"],
            ", ".join(summary["unspellable_examples"]),
        )
    if frame.empty:
        raise ValueError(
            f"IEMOCAP root '{root}': no utterance kept; dropped by reason: {summary['dropped']}"
        )
    if expected_speakers is not None:
        check_speakers(frame["speaker"].unique(), expected_speakers, root)
    return frame, summary


def _manifest_row(label: LabelLine, emotion: str, transcript_raw: str, path: Path, info) -> dict:
    speaker = speaker_of(label.utt_id)
    return {
        "utt_id": label.utt_id,
        "session": int(speaker[3:5]),
        "speaker": speaker,
        "gender": speaker[-1],
        "emotion": emotion,
        "emotion_raw": label.emotion_raw,
        "dialog": label.utt_id.rsplit("_", 1)[0],
        "start": label.start,
        "end": label.end,
        "transcript_raw": transcript_raw,
        "transcript": normalize_transcript(transcript_raw),
        "audio_path": str(path),
        "duration": info.duration,
        "sample_rate": info.sample_rate,
    }


def check_speakers(found, expected, root: str | os.PathLike) -> None:
    """ValueError listing missing and unexpected speakers when the corpus differs from config."""
    found, expected = set(found), set(expected)
    if found == expected:
        return
    raise ValueError(
        f"IEMOCAP root '{root}': the speakers of the kept utterances differ from config key "
        f"'speakers' (the fold ids): configured but not in the corpus: {sorted(expected - found)}; "
        f"in the corpus but not configured: {sorted(found - expected)}"
    )


def _summary(
    root: Path,
    frame: pd.DataFrame,
    drops: _DropLog,
    merge_exc: bool,
    label_lines: int,
    hidden_files: int,
    unreadable_files: list[str],
) -> dict:
    def counts(column: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in frame[column].value_counts().sort_index().items()}

    # Digits outside the bracketed non-speech tokens (which are dropped whole anyway).
    spoken = frame["transcript_raw"].str.replace(r"\[[^\]]*\]|<[^>]*>", " ", regex=True)
    with_digits = spoken.str.contains(r"[0-9]", regex=True)
    unspellable = frame["transcript_raw"].map(unspellable_letters)
    has_unspellable = unspellable != ""

    return {
        "root": str(root),
        "merge_exc": merge_exc,
        "label_lines": label_lines,
        "kept": len(frame),
        "dropped": {reason: drops.counts[reason] for reason in DROP_REASONS},
        "dropped_total": sum(drops.counts.values()),
        "dropped_examples": {r: drops.examples[r] for r in DROP_REASONS if drops.examples[r]},
        "per_speaker": counts("speaker"),
        "per_emotion": counts("emotion"),
        "per_emotion_raw": counts("emotion_raw"),
        "empty_normalized_transcripts": int((frame["transcript"] == "").sum()),
        "transcripts_with_digits": int(with_digits.sum()),
        "digit_examples": frame.loc[with_digits, "utt_id"].head(5).tolist(),
        "transcripts_with_unspellable_letters": int(has_unspellable.sum()),
        "unspellable_letters": "".join(sorted(set("".join(unspellable)))),
        "unspellable_examples": frame.loc[has_unspellable, "utt_id"].head(5).tolist(),
        "duration_hours": round(float(frame["duration"].sum()) / 3600.0, 4),
        "hidden_files_skipped": hidden_files,
        "unreadable_text_files": unreadable_files,
    }
