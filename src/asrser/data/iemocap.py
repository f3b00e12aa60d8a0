"""IEMOCAP ingestion: the IEM4 manifest and its summary from an IEMOCAP release.

The release's files are read by asrser.data.iemocap_files (labels, transcripts, the wav index);
this module joins them and reads the audio headers. Every labelled utterance is either kept or
counted under exactly one drop reason (the first that applies, in DROP_REASONS order); audio files
with no label line are counted too, so nothing is dropped silently. What points at a damaged copy
of the corpus is also named in a warning: audio shorter than its label's span, a label file
without a label line, audio without a label, and utterance ids holding bytes no IEMOCAP id has.
"""

from __future__ import annotations

import logging
import os
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from asrser import EMOTIONS
from asrser.common.text import normalize_transcript, unspellable_letters
from asrser.data.audio import AudioError, audio_info
from asrser.data.iemocap_files import (
    Findings,
    LabelLine,
    _count_hidden,
    index_audio,
    is_damaged,
    printable,
    read_label_lines,
    read_transcripts,
    session_folders,
)
from asrser.data.iemocap_layout import speaker_of

log = logging.getLogger(__name__)

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
    "audio_shorter_than_label",  # truncated: shorter than its label's span (SPAN_TOLERANCE_SECONDS)
    "audio_without_label",  # a wav file no label line refers to
)
EXAMPLES_PER_REASON = 5
# The release cuts each sentence wav out of its dialog's 16 kHz recording at the times of its
# label line, and writes those times rounded to 4 decimals: a wav and its label's span agree to
# within the rounding of two times (2 x 0.05 ms) and a sample at each cut (2 x 62.5 us), 0.225 ms.
# Allowed: two 10-ms frames (the frame step of the release's forced alignments), so that a copy
# cut on that grid keeps every utterance, while a file that lost any audible part of its speech
# (a syllable, 100 ms and more; a wav cut to half its samples, a second) is dropped.
SPAN_TOLERANCE_SECONDS = 0.02


def iem4_emotion(emotion_raw: str, merge_exc: bool = True) -> str | None:
    """The IEM4 class of an annotated label, or None when the utterance is not in IEM4."""
    if emotion_raw in EMOTIONS:
        return emotion_raw
    if merge_exc and emotion_raw == "exc":
        return "hap"
    return None


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
    findings = Findings()
    labels: list[LabelLine] = []
    transcripts: dict[str, str] = {}
    audio: dict[str, Path] = {}
    hidden_files = 0
    for folder in folders:
        emo_dir = folder / "dialog" / "EmoEvaluation"
        labels += read_label_lines(emo_dir, findings)
        hidden_files += _count_hidden(emo_dir)
        trans_dir = folder / "dialog" / "transcriptions"
        transcripts.update(read_transcripts(trans_dir, findings))
        hidden_files += _count_hidden(trans_dir)
        session_audio, hidden = index_audio(folder / "sentences" / "wav", findings)
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
        if is_damaged(label.utt_id):  # (named in findings)
            drops.drop("bad_utterance_id", printable(label.utt_id))
            continue
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
        drops.drop("audio_without_label", printable(utt_id))
        findings.audio_without_label.append(printable(str(audio[utt_id])))

    rows = []
    for label, emotion, path in tqdm(
        candidates, desc="IEMOCAP audio headers", unit="file", mininterval=2.0
    ):
        try:
            info = audio_info(path)
        except AudioError as exc:
            log.warning("%s", printable(str(exc)))
            drops.drop("unreadable_audio", label.utt_id)
            continue
        if info.frames == 0:
            log.warning("%s: empty audio (0 samples)", printable(str(path)))
            drops.drop("unreadable_audio", label.utt_id)
            continue
        span = label.end - label.start
        if info.duration < span - SPAN_TOLERANCE_SECONDS:
            findings.short_audio.append(
                f"{printable(str(path))} ({info.duration:.3f} s of audio; its label "
                f"[{label.start:.4f} - {label.end:.4f}] spans {span:.3f} s)"
            )
            drops.drop("audio_shorter_than_label", label.utt_id)
            continue
        rows.append(_manifest_row(label, emotion, transcripts[label.utt_id], path, info))

    frame = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    frame = frame.sort_values("utt_id", kind="stable").reset_index(drop=True)
    summary = _summary(root, frame, drops, merge_exc, len(labels), hidden_files, findings)
    _warn_about_damage(root, findings)
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


def _warn_about_damage(root: Path, findings: Findings) -> None:
    """A warning for each sign of a damaged copy of the corpus (the summary counts them)."""
    for path in findings.label_files_without_labels:
        log.warning(
            "%s: no label line in this EmoEvaluation file (emptied or cut short?); its dialog's "
            "utterances have no label and are left out",
            path,
        )
    if findings.short_audio:
        log.warning(
            "IEMOCAP root '%s': %d wav files are shorter than their label's span by more than "
            "%g s (cut short?) and are left out (audio_shorter_than_label): %s",
            root,
            len(findings.short_audio),
            SPAN_TOLERANCE_SECONDS,
            _first_named(findings.short_audio),
        )
    if findings.audio_without_label:
        log.warning(
            "IEMOCAP root '%s': %d wav files have no label line and are left out "
            "(audio_without_label): %s",
            root,
            len(findings.audio_without_label),
            _first_named(findings.audio_without_label),
        )
    if findings.damaged_ids:
        log.warning(
            "IEMOCAP root '%s': %d utterance ids hold bytes no IEMOCAP id has (a file that is not "
            "UTF-8, or damaged in a copy); those lines and files are left out: %s",
            root,
            len(findings.damaged_ids),
            _first_named(findings.damaged_ids),
        )


def _first_named(items: list[str]) -> str:
    """The first EXAMPLES_PER_REASON of `items`, then how many more."""
    more = len(items) - EXAMPLES_PER_REASON
    return "; ".join(items[:EXAMPLES_PER_REASON] + ([f"and {more} more"] if more > 0 else []))


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
    findings: Findings,
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
        "unreadable_text_files": findings.unreadable_files,
        "label_files_without_labels": findings.label_files_without_labels,
        "short_audio_examples": findings.short_audio[:EXAMPLES_PER_REASON],
        "audio_without_label_examples": findings.audio_without_label[:EXAMPLES_PER_REASON],
        "damaged_ids": len(findings.damaged_ids),
        "damaged_id_examples": findings.damaged_ids[:EXAMPLES_PER_REASON],
    }
