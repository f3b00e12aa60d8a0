"""The separate synthetic corpus the embedded default pretrains its CTC encoder on.

Many eSpeak voices other than the ten demo speakers (other variants, accents, base pitch, range
and rate; no voice shares its language+variant pair with a demo speaker), with varied prosody
(the demo's emotion styles, at random), reading the pretraining sentence bank (narration and
dialogue, other templates than the demo's). So the pretrained encoder has heard neither the demo's
voices nor its sentences, as the paper's LibriSpeech model has heard neither IEMOCAP's actors nor
their scripts.

Output folder: wav/<utt_id>.wav (16 kHz 16-bit) and manifest.csv with columns utt_id, audio_path
(the final path, as the folder was named), transcript (normalize_transcript'ed), duration, speaker.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from asrser import SAMPLE_RATE
from asrser.common.io import atomic_dir, write_csv
from asrser.common.text import normalize_transcript
from asrser.synthesis.espeak import SpeechJob, check_voice, render_jobs
from asrser.synthesis.iemocap_plan import DEMO_SPEAKERS, EMOTION_STYLES, Speaker, emotion_prosody
from asrser.synthesis.pretrain_text_bank import pretrain_sentence

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = ("utt_id", "audio_path", "transcript", "duration", "speaker")
N_SPEAKERS = 64

# English accents of the shipped data, with their shares of the speakers.
ACCENTS = {
    "en-us": 0.36,
    "en-gb-x-rp": 0.2,
    "en": 0.14,
    "en-us-nyc": 0.08,
    "en-gb-x-gbclan": 0.07,
    "en-gb-x-gbcwmd": 0.07,
    "en-gb-scotland": 0.04,
    "en-029": 0.04,
}
# Natural-sounding variants (robotic, whispering, croaking and child-like ones left out).
FEMALE_VARIANTS = (
    "Alicia", "Andrea", "Annie", "anika", "aunty", "belinda", "grandma", "linda", "shelby",
    "steph", "steph2", "steph3", "f1", "f2", "f3", "f4", "f5",
)  # fmt: skip
MALE_VARIANTS = (
    "Alex", "Andy", "Denis", "Diogo", "Gene", "Henrique", "Hugo", "Jacky", "Lee", "Marco",
    "Mario", "Michael", "Mike", "Reed", "adam", "antonio", "benjamin", "david", "ed", "edward",
    "gustave", "ian", "iven", "iven2", "iven3", "john", "klatt", "klatt2", "klatt3", "m1", "m2",
    "m3", "m4", "m5", "m6", "m7", "m8", "max", "michel", "miguel", "norbert", "paul", "pedro",
    "quincy", "rob", "robert", "sandro", "travis", "victor",
)  # fmt: skip
DEMO_VOICES = frozenset(speaker.voice.lower() for speaker in DEMO_SPEAKERS)


def other_speakers(seed: int, count: int, prefix: str) -> list[Speaker]:
    """`count` seeded voice settings, none sharing language+variant with a demo speaker."""
    rng = np.random.default_rng([seed, 0x0E5])
    accents, shares = list(ACCENTS), np.array(list(ACCENTS.values()))
    speakers = []
    while len(speakers) < count:
        variants = FEMALE_VARIANTS if rng.random() < 0.5 else MALE_VARIANTS
        voice = f"{accents[rng.choice(len(accents), p=shares / shares.sum())]}+{variants[rng.integers(len(variants))]}"
        if voice.lower() in DEMO_VOICES:
            continue
        speakers.append(
            Speaker(
                speaker_id=f"{prefix}{len(speakers):03d}",
                voice=voice,
                pitch=int(rng.integers(25, 76)),
                pitch_range=int(rng.integers(30, 76)),
                rate=int(rng.integers(140, 196)),
            )
        )
    for speaker in speakers:
        check_voice(speaker.voice)
    return speakers


def write_pretrain_corpus(
    out_dir: str | os.PathLike,
    seed: int,
    n_utterances: int,
    processes: int = 1,
    sentence: Callable[[np.random.Generator], str] = pretrain_sentence,
) -> pd.DataFrame:
    """Write the pretraining corpus to `out_dir` (replaced atomically); returns its manifest.

    `processes` forked workers synthesise the audio; the bytes do not depend on it. `sentence`
    draws each utterance's text (the pretraining bank; benchmarks/bench_pretrain_budget.py passes
    the demo's bank to measure what the text alone is worth).
    """
    if n_utterances < 1:
        raise ValueError(f"pretrain n_utterances must be >= 1, got {n_utterances}")
    out_dir = Path(out_dir)
    speakers = other_speakers(seed, N_SPEAKERS, prefix="P")
    styles = list(EMOTION_STYLES)
    rng = np.random.default_rng([seed, 0x9E7])
    rows, jobs = [], []
    with atomic_dir(out_dir) as staging:
        (staging / "wav").mkdir()
        for index in range(n_utterances):
            speaker = speakers[int(rng.integers(len(speakers)))]
            text = sentence(rng)
            prosody, _ = emotion_prosody(speaker, styles[int(rng.integers(len(styles)))], rng)
            utt_id = f"pretrain{index:05d}_{speaker.speaker_id}"
            jobs.append(
                SpeechJob(
                    path=str(staging / "wav" / f"{utt_id}.wav"),
                    text=text,
                    voice=speaker.voice,
                    prosody=prosody,
                    seed=int(rng.integers(2**31)),
                    pad_seconds=(float(rng.uniform(0.05, 0.2)), float(rng.uniform(0.05, 0.2))),
                    noise_floor=3e-4,
                )
            )
            rows.append(
                {
                    "utt_id": utt_id,
                    "audio_path": str(out_dir / "wav" / f"{utt_id}.wav"),
                    "transcript": normalize_transcript(text),
                    "speaker": speaker.speaker_id,
                }
            )
        samples = render_jobs(jobs, processes, desc="pretraining corpus")
        for row, count in zip(rows, samples, strict=True):
            row["duration"] = count / SAMPLE_RATE
        manifest = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
        write_csv(staging / "manifest.csv", manifest)
    log.info(
        "pretraining corpus at %s: %d utterances, %.2f h, %d speakers",
        out_dir,
        len(manifest),
        manifest["duration"].sum() / 3600,
        manifest["speaker"].nunique(),
    )
    return manifest
