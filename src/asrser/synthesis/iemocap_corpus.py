"""The embedded synthetic corpus in the IEMOCAP on-disk format (read by asrser.data.iemocap).

Five sessions of two speakers (Ses01F .. Ses05M): ten eSpeak voices that differ in variant
(vocal tract, voice quality), accent, base pitch, intonation range and speaking rate. Emotion is
carried by prosody (rate, pitch, range, volume, pauses; per-utterance jitter lets the classes
overlap) and, imperfectly, by wording (`text_bank.demo_sentence`). Per speaker: `utterances_per_
emotion` utterances of each IEM4 class (about half of the happy ones labelled `exc`, as IEMOCAP's
excited turns), plus a quarter as many turns labelled fru/sur/xxx that IEM4 ingestion drops.

Written as the release has it:
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
from dataclasses import astuple, dataclass
from pathlib import Path

import numpy as np

from asrser import SAMPLE_RATE
from asrser.common.io import atomic_dir, write_text
from asrser.synthesis.espeak import Prosody, SpeechJob, check_voice, render_jobs
from asrser.synthesis.marker import write_marker
from asrser.synthesis.text_bank import demo_sentence

log = logging.getLogger(__name__)

SESSIONS = (1, 2, 3, 4, 5)
EXTRA_LABELS = ("fru", "xxx", "sur")  # not IEM4: ingestion drops them
EXTRA_FRACTION = 0.25  # extra turns per speaker relative to utterances_per_emotion (at least 3)
TURNS_PER_DIALOG = 18


@dataclass(frozen=True)
class Speaker:
    speaker_id: str
    voice: str  # eSpeak '<language>+<variant>'
    pitch: int
    pitch_range: int
    rate: int


# Ten clearly different voices; the pretraining corpus uses none of these language+variant pairs.
DEMO_SPEAKERS = (
    Speaker("Ses01F", "en-us+f1", pitch=52, pitch_range=55, rate=170),
    Speaker("Ses01M", "en-us+m1", pitch=45, pitch_range=50, rate=165),
    Speaker("Ses02F", "en-gb-x-rp+f2", pitch=58, pitch_range=60, rate=180),
    Speaker("Ses02M", "en-gb-x-rp+m3", pitch=40, pitch_range=45, rate=175),
    Speaker("Ses03F", "en-us+f3", pitch=44, pitch_range=50, rate=158),
    Speaker("Ses03M", "en-us+m7", pitch=56, pitch_range=55, rate=185),
    Speaker("Ses04F", "en+f4", pitch=62, pitch_range=45, rate=165),
    Speaker("Ses04M", "en-us+m6", pitch=36, pitch_range=50, rate=160),
    Speaker("Ses05F", "en-us+f5", pitch=48, pitch_range=65, rate=176),
    Speaker("Ses05M", "en+m2", pitch=50, pitch_range=40, rate=170),
)


@dataclass(frozen=True)
class EmotionStyle:
    """Prosody of an emotion relative to the speaker's: factors and offsets, and their jitter."""

    rate: float  # factor on the speaker's rate
    pitch: float  # offset on the speaker's pitch (eSpeak units, 0..100)
    pitch_range: float  # factor on the speaker's range
    volume: float  # eSpeak volume (100 = default)
    word_gap: float  # mean pause between words, 10 ms units
    exclaim: float  # probability that a statement ends with '!' (eSpeak's exclamation tune)


EMOTION_STYLES = {
    "neu": EmotionStyle(rate=1.0, pitch=0, pitch_range=0.85, volume=100, word_gap=0.5, exclaim=0.0),
    "ang": EmotionStyle(rate=1.17, pitch=9, pitch_range=1.35, volume=150, word_gap=0, exclaim=0.8),
    "hap": EmotionStyle(rate=1.07, pitch=16, pitch_range=1.7, volume=120, word_gap=0, exclaim=0.5),
    "exc": EmotionStyle(rate=1.14, pitch=21, pitch_range=1.8, volume=135, word_gap=0, exclaim=0.8),
    "sad": EmotionStyle(rate=0.78, pitch=-11, pitch_range=0.5, volume=75, word_gap=3, exclaim=0.0),
    "fru": EmotionStyle(
        rate=1.06, pitch=5, pitch_range=1.15, volume=125, word_gap=0.5, exclaim=0.3
    ),
    "sur": EmotionStyle(rate=1.0, pitch=24, pitch_range=1.9, volume=120, word_gap=0, exclaim=0.5),
}
# Per-utterance jitter (standard deviations): enough that neighbouring classes overlap.
JITTER = {"rate": 0.07, "pitch": 6.0, "pitch_range": 0.15, "volume": 0.12}

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


@dataclass
class Turn:
    """One labelled utterance of a dialog."""

    speaker: Speaker
    label: str
    text: str
    transcript: str
    prosody: Prosody
    seed: int
    pads: tuple[float, float]
    utt_id: str = ""
    dialog: str = ""
    duration: float = 0.0  # of the written audio
    start: float = 0.0
    end: float = 0.0


def speaker_labels(utterances_per_emotion: int) -> list[str]:
    """Labels of one speaker's turns: IEM4 classes (hap split into hap/exc) and the extras."""
    n = utterances_per_emotion
    labels = ["ang"] * n + ["hap"] * (n - n // 2) + ["exc"] * (n // 2) + ["sad"] * n + ["neu"] * n
    n_extra = max(len(EXTRA_LABELS), round(EXTRA_FRACTION * n))
    return labels + [EXTRA_LABELS[i % len(EXTRA_LABELS)] for i in range(n_extra)]


def emotion_prosody(speaker: Speaker, label: str, rng: np.random.Generator) -> tuple[Prosody, str]:
    """Prosody of one utterance and the style actually used (xxx: a random one)."""
    style_name = label
    if label == "xxx":  # annotators disagreed: some emotion, mixed with neutral
        style_name = str(rng.choice(["ang", "hap", "sad", "neu", "fru"]))
    style = EMOTION_STYLES[style_name]
    if label == "xxx":
        neutral = astuple(EMOTION_STYLES["neu"])
        style = EmotionStyle(*((a + b) / 2 for a, b in zip(astuple(style), neutral, strict=True)))
    jitter = {key: rng.standard_normal() * sd for key, sd in JITTER.items()}
    prosody = Prosody(
        rate=speaker.rate * style.rate * (1 + jitter["rate"]),
        pitch=speaker.pitch + style.pitch + jitter["pitch"],
        pitch_range=speaker.pitch_range * style.pitch_range * (1 + jitter["pitch_range"]),
        volume=style.volume * (1 + jitter["volume"]),
        word_gap=rng.poisson(style.word_gap),
    ).clipped()
    return prosody, style_name


def _spoken_text(text: str, style_name: str, rng: np.random.Generator) -> str:
    """Punctuation steers eSpeak's tune: aroused statements often end with '!', sad ones trail off."""
    style = EMOTION_STYLES[style_name]
    if text.endswith(".") and rng.random() < style.exclaim:
        return text[:-1] + "!"
    if style_name == "sad" and text.endswith(".") and rng.random() < 0.5:
        return text[:-1] + "..."
    return text


def _transcript(text: str, label: str, rng: np.random.Generator) -> str:
    """IEMOCAP transcripts carry bracketed non-speech tokens now and then."""
    if label in ("hap", "exc") and rng.random() < 0.08:
        return f"[LAUGHTER] {text}"
    if label == "sad" and rng.random() < 0.08:
        return f"[BREATHING] {text}"
    return text


def _make_turn(speaker: Speaker, label: str, rng: np.random.Generator) -> Turn:
    text, _ = demo_sentence(label, rng)
    prosody, style_name = emotion_prosody(speaker, label, rng)
    spoken = _spoken_text(text, style_name, rng)
    return Turn(
        speaker=speaker,
        label=label,
        text=spoken,
        transcript=_transcript(spoken, label, rng),
        prosody=prosody,
        seed=int(rng.integers(2**31)),
        pads=(float(rng.uniform(0.05, 0.25)), float(rng.uniform(0.1, 0.3))),
    )


def dialog_names(session: int, count: int) -> list[str]:
    """IEMOCAP-like dialog names, alternating the marker-wearing actor: Ses01F_impro01,
    Ses01M_impro01, Ses01F_script01_1, Ses01M_script01_2, Ses01F_impro02, ..."""
    names = []
    for k in range(count):
        letter, round_ = "FM"[k % 2], k // 4 + 1
        if (k // 2) % 2 == 0:
            names.append(f"Ses{session:02d}{letter}_impro{round_:02d}")
        else:
            names.append(f"Ses{session:02d}{letter}_script{round_:02d}_{k % 2 + 1}")
    return names


def _interleave(first: list[Turn], second: list[Turn]) -> list[Turn]:
    """Alternate the two speakers' turns (a conversation), the longer list's rest at the end."""
    merged = [turn for pair in zip(first, second, strict=False) for turn in pair]
    rest = first[len(second) :] if len(first) > len(second) else second[len(first) :]
    return merged + rest


def plan_session(
    session: int, labels: list[str], rng: np.random.Generator
) -> dict[str, list[Turn]]:
    """Dialog name -> its turns in time order, ids and time stamps still unset."""
    female, male = (s for s in DEMO_SPEAKERS if s.speaker_id[3:5] == f"{session:02d}")
    turns = {
        speaker.speaker_id: [_make_turn(speaker, label, rng) for label in labels]
        for speaker in (female, male)
    }
    for speaker_turns in turns.values():
        rng.shuffle(speaker_turns)
    n_dialogs = max(2, round(2 * len(labels) / TURNS_PER_DIALOG))
    names = dialog_names(session, n_dialogs)
    chunks = np.array_split(np.arange(len(labels)), n_dialogs)
    dialogs = {}
    for name, indices in zip(names, chunks, strict=True):
        f_turns = [turns[female.speaker_id][i] for i in indices]
        m_turns = [turns[male.speaker_id][i] for i in indices]
        # Who opens the dialog varies.
        dialog = (
            _interleave(f_turns, m_turns) if rng.random() < 0.5 else _interleave(m_turns, f_turns)
        )
        dialogs[name] = dialog
    return dialogs


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
