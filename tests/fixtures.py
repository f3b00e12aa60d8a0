"""Builders of tiny corpora in the real IEMOCAP and MUSAN on-disk formats, with their quirks.

Plain functions (exposed as pytest fixtures in conftest.py) so any test can build a tree with the
sizes it needs. Each returns a record of what it wrote, so tests can derive what a parser must find.
Audio is numpy-generated (sines, noise) and written with soundfile; everything is seeded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

EMOTIONS = ("ang", "hap", "sad", "neu")
IEM4_WITH_EXC = {*EMOTIONS, "exc"}
SPEAKER_LETTERS = ("F", "M")
WORDS = {
    "ang": "I told you a hundred times stop it",
    "hap": "that is wonderful news I love it",
    "sad": "I miss her so much it hurts",
    "neu": "the meeting is at three o'clock",
    "exc": "wow we actually won the prize",
    "fru": "why does this never work",
    "xxx": "well I don't know maybe",
}
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# Lines that look like labels but sit where the parser must not look (subfolders, hidden forks).
DECOY_SUFFIX = "F900"


@dataclass
class FixtureUtterance:
    utt_id: str
    speaker: str
    emotion_raw: str
    transcript: str | None  # None: no transcript line
    audio: str = "ok"  # ok | missing | empty | unreadable
    labelled: bool = True
    dialog: str = ""

    def fate(self, merge_exc: bool = True) -> str:
        """'kept' or the drop reason the parser must report (first that applies)."""
        if not self.labelled:
            return "audio_without_label"
        if self.emotion_raw not in EMOTIONS and not (merge_exc and self.emotion_raw == "exc"):
            return "label_not_iem4"
        if self.transcript is None:
            return "no_transcript"
        if self.audio == "missing":
            return "missing_audio"
        if self.audio in ("empty", "unreadable"):
            return "unreadable_audio"
        return "kept"


@dataclass
class IemocapFixture:
    root: Path
    utterances: dict[str, FixtureUtterance] = field(default_factory=dict)

    def expected_kept(self, merge_exc: bool = True) -> set[str]:
        return {u for u, utt in self.utterances.items() if utt.fate(merge_exc) == "kept"}

    def expected_dropped(self, merge_exc: bool = True) -> Counter:
        return Counter(
            utt.fate(merge_exc) for utt in self.utterances.values() if utt.fate(merge_exc) != "kept"
        )

    @property
    def speakers(self) -> list[str]:
        return sorted({utt.speaker for utt in self.utterances.values()})


def _tone(rng: np.random.Generator, seconds: float, sr: int, freq: float) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    signal = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)
    return signal.astype(np.float32)


def _write_wav(path: Path, audio: np.ndarray, sr: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, sr, subtype="PCM_16", format="WAV")


def _write_hidden_fork(folder: Path, name: str, text: str = "") -> None:
    """A macOS resource fork: binary junk plus, optionally, text that would parse if read."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"._{name}").write_bytes(b"\x00\x05\x16\x07Mac OS X\x00\xff" + text.encode())


def make_iemocap_tree(
    root: str | Path,
    per_emotion: int = 2,
    seconds: float = 0.3,
    bad_cases: bool = True,
    sample_rate: int = 16_000,
    seed: int = 0,
    durations: Mapping[str, float] | None = None,
) -> IemocapFixture:
    """Write an IEMOCAP-format tree: 5 sessions x 2 speakers x 4 emotions x `per_emotion`.

    Always present (format quirks that change nothing when parsed right): utterances of both
    speakers in both dialogs of a session (speaker letter rule), one `exc` utterance per speaker,
    EmoEvaluation subfolders and hidden `._` files holding decoy label lines, transcript lines that
    are not utterances (…_MXX0, …_FXX0, no timestamp), extra EmoEvaluation lines (C-E2:, A-E3:).
    With `bad_cases`: labels fru and xxx, a label without audio, one without transcript, an empty
    wav, an unreadable wav, and a wav with no label line — one of each.
    Utterances last `seconds` to 1.5 x `seconds`, or as `durations` says (seconds by utt_id;
    `plan_iemocap_tree` gives the ids beforehand).
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    fixture = IemocapFixture(root)
    for plan in plan_iemocap_tree(per_emotion, bad_cases):
        _write_session(
            root / f"Session{plan.session}", plan, rng, seconds, sample_rate, durations or {}
        )
        fixture.utterances.update({utt.utt_id: utt for utt in plan.utterances})
    return fixture


def plan_iemocap_tree(per_emotion: int = 2, bad_cases: bool = True) -> list[_SessionPlan]:
    """The utterances make_iemocap_tree writes with these settings, by session."""
    plans = []
    for session in range(1, 6):
        plan = _SessionPlan(session)
        for letter in SPEAKER_LETTERS:
            for e_index, emotion in enumerate(EMOTIONS):
                for i in range(per_emotion):
                    plan.add(letter, emotion, e_index + i)
            plan.add(letter, "exc", 0, transcript=f"{WORDS['exc']} [LAUGHTER]")
        if bad_cases:
            plan.add_bad_case()
        plans.append(plan)
    return plans


class _SessionPlan:
    """The utterances of one session: two dialogs, each holding both speakers' turns."""

    def __init__(self, session: int) -> None:
        self.session = session
        self.dialogs = [f"Ses0{session}F_impro01", f"Ses0{session}M_script01_1"]
        self.counters: Counter = Counter()
        self.utterances: list[FixtureUtterance] = []

    def add(self, letter: str, emotion: str, dialog_index: int, **kwargs) -> None:
        dialog = self.dialogs[dialog_index % 2]
        number = self.counters[dialog, letter]
        self.counters[dialog, letter] += 1
        kwargs.setdefault("transcript", f"{WORDS[emotion]} {NUMBER_WORDS[number % 10]}")
        self.utterances.append(
            FixtureUtterance(
                utt_id=f"{dialog}_{letter}{number:03d}",
                speaker=f"Ses0{self.session}{letter}",
                emotion_raw=emotion,
                dialog=dialog,
                **kwargs,
            )
        )

    def add_bad_case(self) -> None:
        """One bad case per session (session 1: three), so every drop reason occurs."""
        if self.session == 1:
            self.add("F", "fru", 0)
            self.add("M", "xxx", 1)
            self.add("F", "neu", 1, labelled=False)
        elif self.session == 2:
            self.add("M", "ang", 0, audio="missing")
        elif self.session == 3:
            self.add("F", "neu", 1, audio="empty")
        elif self.session == 4:
            self.add("M", "sad", 0, audio="unreadable")
        else:
            self.add("F", "hap", 1, transcript=None)


def _write_session(
    folder: Path,
    plan: _SessionPlan,
    rng: np.random.Generator,
    seconds: float,
    sample_rate: int,
    durations: Mapping[str, float],
) -> None:
    emo_dir = folder / "dialog" / "EmoEvaluation"
    trans_dir = folder / "dialog" / "transcriptions"
    wav_root = folder / "sentences" / "wav"
    for dialog in plan.dialogs:
        label_lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
        transcript_lines = ["M: [BREATHING]"]
        clock = 1.0
        for utt in (u for u in plan.utterances if u.dialog == dialog):
            duration = seconds * (1.0 + 0.5 * rng.random())
            duration = durations.get(utt.utt_id, duration)
            start, end = clock, clock + duration
            clock = end + 0.5
            if utt.labelled:
                label_lines += [
                    f"[{start:.4f} - {end:.4f}]\t{utt.utt_id}\t{utt.emotion_raw}\t"
                    "[2.5000, 3.0000, 2.5000]",
                    "C-E2:\tNeutral;\t()",
                    "A-E3:\tval 3; act 2; dom  2;\t()",
                    "",
                ]
            if utt.transcript is not None:
                transcript_lines.append(
                    f"{utt.utt_id} [{start:08.4f}-{end:08.4f}]: {utt.transcript}"
                )
            else:  # a no-timestamp line must not count as its transcript
                transcript_lines.append(f"{utt.utt_id}: text without a timestamp")
            _write_utterance_audio(wav_root / dialog, utt, rng, duration, sample_rate)
        letter = dialog[5]
        transcript_lines += [
            f"{dialog}_MXX0 [{clock:08.4f}-{clock + 1:08.4f}]: [LAUGHTER] not an utterance",
            f"{dialog}_FXX0 [{clock:08.4f}-{clock + 1:08.4f}]: Mm-hmm.",
            f"{letter}: Oh well.",
            "",
        ]
        decoy = f"[1.0000 - 2.0000]\t{dialog}_{DECOY_SUFFIX}\tang\t[1.0000, 1.0000, 1.0000]\n"
        duplicate = (
            f"[1.0000 - 2.0000]\t{plan.utterances[0].utt_id}\tfru\t[1.0000, 1.0000, 1.0000]\n"
        )
        emo_dir.mkdir(parents=True, exist_ok=True)
        (emo_dir / f"{dialog}.txt").write_text("\n".join(label_lines) + "\n")
        trans_dir.mkdir(parents=True, exist_ok=True)
        (trans_dir / f"{dialog}.txt").write_text("\n".join(transcript_lines) + "\n")
        for sub, name in (
            ("Categorical", f"{dialog}_e1_cat.txt"),
            ("Attribute", f"{dialog}_e1_atr.txt"),
            ("Self-evaluation", f"{dialog}.txt"),
        ):
            (emo_dir / sub).mkdir(exist_ok=True)
            (emo_dir / sub / name).write_text(decoy + duplicate)
        _write_hidden_fork(emo_dir, f"{dialog}.txt", "\n" + decoy)
        _write_hidden_fork(
            trans_dir, f"{dialog}.txt", f"\n{dialog}_{DECOY_SUFFIX} [001.0-002.0]: x\n"
        )
        _write_hidden_fork(wav_root / dialog, f"{dialog}_{DECOY_SUFFIX}.wav")
    _write_hidden_fork(wav_root, "Ses_hidden_dialog")


def _write_utterance_audio(
    folder: Path, utt: FixtureUtterance, rng: np.random.Generator, seconds: float, sr: int
) -> None:
    path = folder / f"{utt.utt_id}.wav"
    folder.mkdir(parents=True, exist_ok=True)
    if utt.audio == "missing":
        return
    if utt.audio == "empty":
        _write_wav(path, np.zeros(0, dtype=np.float32), sr)
    elif utt.audio == "unreadable":
        path.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk, not audio" * 3)
    else:
        freq = 180.0 if utt.speaker.endswith("M") else 260.0
        _write_wav(path, _tone(rng, seconds, sr, freq + 20 * rng.random()), sr)


# --------------------------------------------------------------------------------------- MUSAN

MUSAN_SUBSETS = {
    "music": ("fma", "hd-classical"),
    "speech": ("librivox", "us-gov"),
    "noise": ("free-sound", "sound-bible"),
}


@dataclass
class MusanFixtureFile:
    type: str
    subset: str
    name: str
    sample_rate: int
    channels: int
    seconds: float
    fate: str = "kept"  # kept | empty | unreadable


@dataclass
class MusanFixture:
    root: Path
    files: dict[str, MusanFixtureFile] = field(default_factory=dict)

    def kept(self, kind: str | None = None) -> set[str]:
        return {
            f.name
            for f in self.files.values()
            if f.fate == "kept" and (kind is None or f.type == kind)
        }


def _musan_signal(kind: str, rng: np.random.Generator, frames: int, sr: int) -> np.ndarray:
    t = np.arange(frames) / sr
    if kind == "music":  # a chord
        f0 = 220.0 * 2 ** (rng.integers(0, 12) / 12)
        signal = sum(np.sin(2 * np.pi * f0 * r * t) for r in (1.0, 1.26, 1.5)) / 3
    elif kind == "speech":  # a harmonic tone with a syllable-rate envelope
        f0 = 100.0 + 120.0 * rng.random()
        envelope = 0.5 * (1 + np.sin(2 * np.pi * 4.0 * t))
        signal = envelope * sum(np.sin(2 * np.pi * f0 * h * t) / h for h in (1, 2, 3))
    else:
        signal = rng.standard_normal(frames) * 0.3
    return (0.4 * signal).astype(np.float32)


def make_musan_tree(
    root: str | Path,
    files_per_subset: int = 2,
    seconds: float = 0.5,
    bad_cases: bool = True,
    seed: int = 0,
) -> MusanFixture:
    """Write a MUSAN-format tree: {music,speech,noise}/<2 subsets>/<files_per_subset wavs>.

    Always present: a 44.1 kHz file (music/hd-classical), a stereo file (speech/us-gov), a 22.05 kHz
    stereo file (noise/sound-bible), ANNOTATIONS/LICENSE/README files and hidden `._` forks.
    With `bad_cases`: an empty wav (noise/free-sound) and an unreadable wav (noise/sound-bible).
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    fixture = MusanFixture(root)
    special = {  # (subset, index) -> (sample rate, channels)
        ("hd-classical", 0): (44_100, 1),
        ("us-gov", 0): (16_000, 2),
        ("sound-bible", 0): (22_050, 2),
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "README").write_text("MUSAN fixture\n")
    for kind, subsets in MUSAN_SUBSETS.items():
        (root / kind).mkdir(parents=True, exist_ok=True)
        (root / kind / "README").write_text(f"{kind}\n")
        for subset in subsets:
            folder = root / kind / subset
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "ANNOTATIONS").write_text("name genre vocals\n")
            (folder / "LICENSE").write_text("CC\n")
            _write_hidden_fork(folder, f"{kind}-{subset}-0000.wav")
            for index in range(files_per_subset):
                sr, channels = special.get((subset, index), (16_000, 1))
                name = f"{kind}-{subset}-{index:04d}"
                length = seconds * (1.0 + rng.random())
                frames = int(round(length * sr))
                signal = _musan_signal(kind, rng, frames, sr)
                if channels == 2:  # the right channel quieter, so averaging matters
                    signal = np.stack([signal, 0.5 * signal], axis=1)
                _write_wav(folder / f"{name}.wav", signal, sr)
                fixture.files[name] = MusanFixtureFile(
                    kind, subset, name, sr, channels, frames / sr
                )
    if bad_cases:
        empty = MusanFixtureFile(
            "noise", "free-sound", "noise-free-sound-empty", 16_000, 1, 0.0, "empty"
        )
        _write_wav(
            root / "noise" / "free-sound" / f"{empty.name}.wav", np.zeros(0, np.float32), 16_000
        )
        bad = MusanFixtureFile(
            "noise", "sound-bible", "noise-sound-bible-bad", 16_000, 1, 0.0, "unreadable"
        )
        (root / "noise" / "sound-bible" / f"{bad.name}.wav").write_bytes(b"not a wav file at all")
        fixture.files.update({empty.name: empty, bad.name: bad})
    return fixture


# ------------------------------------------------------------------------ Snakemake scripts


class _Namedlist(list):
    """A list with named items, like snakemake.io.Namedlist (input, output, log, params)."""

    def __init__(self, **named) -> None:
        super().__init__(named.values())
        self.__dict__.update(named)


def run_script(
    script: str | Path,
    *,
    log: str | Path,
    config: dict | None = None,
    threads: int = 1,
    input: dict | None = None,
    output: dict | None = None,
    params: dict | None = None,
):
    """Run a workflow/scripts entry point with a stand-in `snakemake` object (no workflow)."""
    import runpy
    from types import SimpleNamespace

    snakemake = SimpleNamespace(
        input=_Namedlist(**(input or {})),
        output=_Namedlist(**(output or {})),
        params=_Namedlist(**(params or {})),
        log=[str(log)],
        threads=threads,
        config=config or {},
    )
    return runpy.run_path(str(script), init_globals={"snakemake": snakemake})
