"""Planning the embedded synthetic IEMOCAP-format corpus: its speakers, emotion prosody and turns.

Five sessions of two speakers (Ses01F .. Ses05M): ten eSpeak voices that differ in variant
(vocal tract, voice quality), accent, base pitch, intonation range and speaking rate. Emotion is
carried by prosody (rate, pitch, range, volume, pauses; per-utterance jitter lets the classes
overlap) and, imperfectly, by wording (`text_bank.demo_sentence`). Per speaker: `utterances_per_
emotion` utterances of each IEM4 class (about half of the happy ones labelled `exc`, as IEMOCAP's
excited turns), plus a quarter as many turns labelled fru/sur/xxx that IEM4 ingestion drops.
Each dialog holds turns of both speakers of its session. asrser.synthesis.iemocap_corpus writes
the planned turns in the release's layout.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

import numpy as np

from asrser.synthesis.espeak import Prosody
from asrser.synthesis.text_bank import demo_sentence

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
