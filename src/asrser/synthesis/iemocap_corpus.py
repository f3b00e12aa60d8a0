"""The embedded synthetic corpus in the IEMOCAP on-disk format (read by asrser.data.iemocap).

Its speakers, emotion prosody and turns are planned by asrser.synthesis.iemocap_plan; this module
renders the turns with eSpeak and writes them as the release has it:
  Session{n}/dialog/EmoEvaluation/<dialog>.txt     header, blank lines, label lines, annotator lines
  Session{n}/dialog/EmoEvaluation/{Categorical,Attribute,Self-evaluation}/   per-annotator files
  Session{n}/dialog/transcriptions/<dialog>.txt     "<utt> [006.2901-008.2357]: text" (+ XX turns and
                                                    a line without time stamps, which are no utterances)
  Session{n}/sentences/wav/<dialog>/<utt>.wav       16 kHz 16-bit mono (+ macOS "._" forks)
Each dialog holds turns of both speakers of its session; the speaker of Ses01F_impro01_M003 is the
session's male. Time stamps follow the audio durations along each dialog's time line.
Everything is drawn from `seed`: the same seed writes the same bytes.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path

import numpy as np

from asrser import SAMPLE_RATE
from asrser.common.io import atomic_dir, write_text
from asrser.synthesis.espeak import SpeechJob, check_voice, render_jobs
from asrser.synthesis.iemocap_plan import DEMO_SPEAKERS, Turn, plan_session, speaker_labels
from asrser.synthesis.marker import write_marker

log = logging.getLogger(__name__)

SESSIONS = (1, 2, 3, 4, 5)

# IEMOCAP's category names in the annotator lines.
CATEGORY_NAMES = {
    "ang": "Anger",
    "hap": "Happiness",
    "exc": "Excited",
    "sad": "Sadness",
    "neu": "Neutral state",
    "fru": "Frustration",
    "sur": "Surprise",
}
# Mean valence, activation, dominance (1..5) per label.
VAD = {
    "ang": (1.8, 3.8, 3.8),
    "hap": (4.0, 3.0, 3.0),
    "exc": (3.8, 3.7, 3.2),
    "sad": (1.8, 2.0, 2.0),
    "neu": (3.0, 2.4, 2.6),
    "fru": (2.0, 3.1, 3.0),
    "sur": (3.4, 3.6, 2.8),
    "xxx": (2.7, 3.0, 2.9),
}
APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(4072)  # 4096 B


def _assign_ids(dialog: str, turns: list[Turn]) -> None:
    """Ids number each speaker's turns of the dialog in time order: ..._F000, ..._M000, ..._F001."""
    counters: Counter = Counter()
    for turn in turns:
        letter = turn.speaker.speaker_id[-1]
        turn.dialog = dialog
        turn.utt_id = f"{dialog}_{letter}{counters[letter]:03d}"
        counters[letter] += 1


def _assign_times(turns: list[Turn], rng: np.random.Generator) -> None:
    """Consecutive turns along the dialog's time line, with pauses between them."""
    clock = float(rng.uniform(1.5, 6.0))
    for turn in turns:
        turn.start = round(clock, 4)
        turn.end = round(clock + turn.duration, 4)
        clock = turn.end + float(rng.uniform(0.2, 2.0))


def _annotations(
    turn: Turn, rng: np.random.Generator
) -> tuple[list[tuple[str, str]], list[tuple[int, ...]]]:
    """Categorical annotations (evaluator, 'Category;') and attribute scores (val, act, dom)."""
    evaluators = sorted(rng.choice(["E1", "E2", "E3", "E4"], size=3, replace=False).tolist())
    evaluators.append(f"{turn.speaker.speaker_id[-1]}1")  # the actor's self-evaluation
    others = [name for key, name in CATEGORY_NAMES.items() if key != turn.label]
    categorical = []
    for index, evaluator in enumerate(evaluators):
        if turn.label == "xxx":  # no majority: everyone says something else
            category = others[int(rng.integers(len(others)))]
        elif index < 2 or rng.random() < 0.7:  # a majority agrees with the label
            category = CATEGORY_NAMES[turn.label]
        else:
            category = others[int(rng.integers(len(others)))]
        categorical.append((evaluator, f"{category};"))
    means = VAD[turn.label]
    attributes = [
        tuple(int(np.clip(round(m + rng.normal(0, 0.6)), 1, 5)) for m in means) for _ in range(3)
    ]
    return categorical, attributes


def _emo_evaluation(turns: list[Turn], rng: np.random.Generator) -> tuple[str, dict, dict]:
    """The EmoEvaluation text of a dialog, and its per-evaluator categorical/attribute lines."""
    lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
    categorical_files: dict[str, list[str]] = {}
    attribute_files: dict[str, list[str]] = {}
    for turn in turns:
        categorical, attributes = _annotations(turn, rng)
        v, a, d = (float(np.mean(values)) for values in zip(*attributes, strict=True))
        lines.append(
            f"[{turn.start:.4f} - {turn.end:.4f}]\t{turn.utt_id}\t{turn.label}\t"
            f"[{v:.4f}, {a:.4f}, {d:.4f}]"
        )
        for evaluator, categories in categorical:
            lines.append(f"C-{evaluator}:\t{categories}\t()")
            categorical_files.setdefault(evaluator, []).append(f"{turn.utt_id} :{categories} ()")
        for evaluator, (val, act, dom) in zip(("E3", "E4", "E5"), attributes, strict=True):
            lines.append(f"A-{evaluator}:\tval {val}; act {act}; dom  {dom};\t()")
            attribute_files.setdefault(evaluator, []).append(
                f"{turn.utt_id} :val {val}; act {act}; dom  {dom}; ()"
            )
        lines.append("")
    return "\n".join(lines) + "\n", categorical_files, attribute_files


def _transcription(dialog: str, turns: list[Turn], with_quirks: bool) -> str:
    lines = [f"{t.utt_id} [{t.start:08.4f}-{t.end:08.4f}]: {t.transcript}" for t in turns]
    if with_quirks:
        end = turns[-1].end
        # A turn IEMOCAP did not segment into an utterance (XX id), and a line without a time stamp.
        lines.append(f"{dialog}_MXX0 [{end + 0.5:08.4f}-{end + 1.3:08.4f}]: Hm.")
        lines.append(f"{dialog}_F{len(turns) + 50:03d}: Okay.")
    return "\n".join(lines) + "\n"


def _anvil(dialog: str, turns: list[Turn]) -> str:
    tracks = "\n".join(
        f'      <el index="{i}" start="{t.start:.4f}" end="{t.end:.4f}">'
        f'<attribute name="Emotion">{CATEGORY_NAMES.get(t.label, "Other")}</attribute></el>'
        for i, t in enumerate(turns)
    )
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<annotation>\n'
        f'  <head><specification src="IEMOCAP.xml"/><video src="{dialog}.avi"/></head>\n'
        f'  <body>\n    <track name="Self-evaluation" type="primary">\n{tracks}\n'
        "    </track>\n  </body>\n</annotation>\n"
    )


def write_iemocap_corpus(
    root: str | os.PathLike, seed: int, utterances_per_emotion: int, processes: int = 1
) -> dict:
    """Write the synthetic corpus at `root` (replaced atomically); returns a summary dict.

    `processes` forked workers synthesise the audio; the bytes do not depend on it.
    """
    if utterances_per_emotion < 1:
        raise ValueError(f"utterances_per_emotion must be >= 1, got {utterances_per_emotion}")
    for speaker in DEMO_SPEAKERS:
        check_voice(speaker.voice)
    rng = np.random.default_rng([seed, 0x1E3])
    labels = speaker_labels(utterances_per_emotion)
    sessions = {session: plan_session(session, labels, rng) for session in SESSIONS}
    root = Path(root)
    with atomic_dir(root) as staging:
        jobs, order = [], []
        for session, dialogs in sessions.items():
            wav_root = staging / f"Session{session}" / "sentences" / "wav"
            for dialog, turns in dialogs.items():
                _assign_ids(dialog, turns)  # the time order is known before the durations
                (wav_root / dialog).mkdir(parents=True, exist_ok=True)
                for turn in turns:
                    jobs.append(
                        SpeechJob(
                            path=str(wav_root / dialog / f"{turn.utt_id}.wav"),
                            text=turn.text,
                            voice=turn.speaker.voice,
                            prosody=turn.prosody,
                            seed=turn.seed,
                            pad_seconds=turn.pads,
                            noise_floor=3e-4,
                        )
                    )
                    order.append(turn)
        samples = render_jobs(jobs, processes, desc="IEMOCAP-format corpus")
        for turn, count in zip(order, samples, strict=True):
            turn.duration = count / SAMPLE_RATE
        for session, dialogs in sessions.items():
            _write_session_text(staging / f"Session{session}", dialogs, rng)
        _write_junk(staging, sessions)
        write_marker(staging, "an IEMOCAP-format corpus")
    summary = _summary(root, sessions)
    log.info("IEMOCAP-format corpus at %s: %s", root, summary)
    return summary


def _write_session_text(folder: Path, dialogs: dict[str, list[Turn]], rng) -> None:
    emo_dir = folder / "dialog" / "EmoEvaluation"
    trans_dir = folder / "dialog" / "transcriptions"
    for sub in ("Categorical", "Attribute", "Self-evaluation"):
        (emo_dir / sub).mkdir(parents=True, exist_ok=True)
    trans_dir.mkdir(parents=True, exist_ok=True)
    for index, (dialog, turns) in enumerate(dialogs.items()):
        _assign_times(turns, rng)
        text, categorical, attributes = _emo_evaluation(turns, rng)
        write_text(emo_dir / f"{dialog}.txt", text)
        for evaluator, lines in categorical.items():
            if evaluator.startswith("E"):
                write_text(
                    emo_dir / "Categorical" / f"{dialog}_{evaluator.lower()}_cat.txt",
                    "\n".join(lines) + "\n",
                )
        for evaluator, lines in attributes.items():
            write_text(
                emo_dir / "Attribute" / f"{dialog}_{evaluator.lower()}_atr.txt",
                "\n".join(lines) + "\n",
            )
        write_text(emo_dir / "Self-evaluation" / f"{dialog}.anvil", _anvil(dialog, turns))
        write_text(
            trans_dir / f"{dialog}.txt", _transcription(dialog, turns, with_quirks=index % 3 == 0)
        )


def _write_junk(staging: Path, sessions: dict[int, dict[str, list[Turn]]]) -> None:
    """macOS leftovers the release ships with: AppleDouble forks and a .DS_Store."""
    for session in (1, 3):
        dialog, turns = next(iter(sessions[session].items()))
        wav_dir = staging / f"Session{session}" / "sentences" / "wav" / dialog
        (wav_dir / f"._{turns[0].utt_id}.wav").write_bytes(APPLEDOUBLE)
    first_dialog = next(iter(sessions[2]))
    (staging / "Session2" / "dialog" / "EmoEvaluation" / f"._{first_dialog}.txt").write_bytes(
        APPLEDOUBLE
    )
    (staging / "Session5" / "sentences" / "wav" / ".DS_Store").write_bytes(bytes(64))


def _summary(root: Path, sessions: dict[int, dict[str, list[Turn]]]) -> dict:
    turns = [turn for dialogs in sessions.values() for ts in dialogs.values() for turn in ts]
    durations = [turn.duration for turn in turns]
    return {
        "root": str(root),
        "utterances": len(turns),
        "dialogs": sum(len(dialogs) for dialogs in sessions.values()),
        "per_label": dict(sorted(Counter(t.label for t in turns).items())),
        "hours": round(sum(durations) / 3600, 4),
        "duration_min_s": round(min(durations), 3),
        "duration_max_s": round(max(durations), 3),
        "duration_mean_s": round(float(np.mean(durations)), 3),
    }
