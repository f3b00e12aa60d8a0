"""The embedded noise bank in the MUSAN layout (read by asrser.data.musan).

  <root>/music/{fma,fma-western-art,hd-classical,jamendo,rfm}/music-<subset>-NNNN.wav
  <root>/speech/{librivox,us-gov}/speech-<subset>-NNNN.wav
  <root>/noise/{free-sound,sound-bible}/noise-<subset>-NNNN.wav
plus ANNOTATIONS and LICENSE files in every subset and a README at the root, as the release has.

- music: synthesised pieces: a chord progression in a random key and tempo played by several
  instruments (piano, organ, strings, pluck, bell, bass, lead) from harmonic series under ADSR
  envelopes; pop-like subsets add drums (kick, snare, hi-hat), classical ones do not;
- noise: white, pink and brown noise, mains hum with harmonics, clatter, a fan, rain, traffic and
  typing;
- speech: voices other than the demo speakers' reading the generic sentence bank, one reader per
  file, sentences concatenated to the file length.
Files are `seconds` long; a small minority is written as real MUSAN ingestion must expect to
convert: stereo and/or 44.1 or 22.05 kHz (see ODD_FORMATS). Everything is drawn from `seed`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from asrser.common.io import atomic_dir, write_text
from asrser.data.audio import write_audio
from asrser.synthesis.espeak import synthesize
from asrser.synthesis.iemocap_plan import emotion_prosody
from asrser.synthesis.marker import write_marker
from asrser.synthesis.pretrain_corpus import other_speakers
from asrser.synthesis.pretrain_text_bank import generic_sentence

log = logging.getLogger(__name__)

SUBSETS = {
    "music": ("fma", "fma-western-art", "hd-classical", "jamendo", "rfm"),
    "noise": ("free-sound", "sound-bible"),
    "speech": ("librivox", "us-gov"),
}
# MUSAN's file-name stems per subset (music-fma-wa-0000, music-hd-0000, ...).
STEMS = {"fma-western-art": "fma-wa", "hd-classical": "hd"}
CLASSICAL_SUBSETS = ("fma-western-art", "hd-classical")
# (sample rate, channels) by file index modulo 8, per type; every other file is 16 kHz mono.
ODD_FORMATS = {
    "music": {1: (44100, 2)},
    "noise": {2: (22050, 1)},
    "speech": {3: (44100, 1)},
}
NOISE_KINDS = ("pink", "hum", "clatter", "fan", "white", "rain", "brown", "traffic", "typing")


def file_format(kind: str, index: int) -> tuple[int, int]:
    """(sample rate, channels) the `index`-th file of a type is written with."""
    return ODD_FORMATS[kind].get(index % 8, (16000, 1))


# ---------------------------------------------------------------- music


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


def _adsr(n: int, sr: int, attack: float, decay: float, sustain: float, release: float):
    """Piecewise-linear envelope of `n` samples whose release ends the note."""
    a, d, r = (max(1, int(x * sr)) for x in (attack, decay, release))
    s = max(0, n - a - d - r)
    env = np.concatenate(
        [
            np.linspace(0, 1, a, endpoint=False),
            np.linspace(1, sustain, d, endpoint=False),
            np.full(s, sustain),
            np.linspace(sustain, 0, r),
        ]
    )
    return env[:n] if env.size >= n else np.pad(env, (0, n - env.size))


def _harmonic_tone(freq, n, sr, amplitudes, decay_rates=None, vibrato=0.0, rng=None):
    """Sum of harmonics (those below Nyquist) with per-harmonic exponential decay."""
    t = np.arange(n) / sr
    phase_mod = 0.0
    if vibrato:
        phase_mod = vibrato * np.sin(2 * np.pi * 5.5 * t) / 5.5
    out = np.zeros(n)
    for k, amp in enumerate(amplitudes, start=1):
        if k * freq >= 0.45 * sr or amp == 0:
            continue
        start = rng.uniform(0, 2 * np.pi) if rng is not None else 0.0
        partial = amp * np.sin(2 * np.pi * k * freq * (t + phase_mod) + start)
        if decay_rates is not None:
            partial *= np.exp(-decay_rates[k - 1] * t)
        out += partial
    return out


def _instrument_note(instrument: str, note: float, seconds: float, sr: int, rng) -> np.ndarray:
    freq, n = _midi_hz(note), max(1, int(seconds * sr))
    k = np.arange(1, 13)
    if instrument == "piano":
        tone = _harmonic_tone(freq, n, sr, 1 / k**1.5, decay_rates=1.5 + 0.8 * k, rng=rng)
        return tone * _adsr(n, sr, 0.005, 0.05, 0.9, 0.08)
    if instrument == "organ":
        amps = np.array([1, 0.8, 0.6, 0.5, 0, 0.4, 0, 0.3, 0, 0, 0, 0.1])
        return _harmonic_tone(freq, n, sr, amps, rng=rng) * _adsr(n, sr, 0.08, 0.1, 0.8, 0.15)
    if instrument == "strings":
        tone = _harmonic_tone(freq, n, sr, 1 / k * 0.9**k, vibrato=0.004, rng=rng)
        return tone * _adsr(n, sr, 0.25, 0.2, 0.85, 0.3)
    if instrument == "pluck":
        tone = _harmonic_tone(freq, n, sr, 1 / k, decay_rates=3 + 2.5 * k, rng=rng)
        return tone * _adsr(n, sr, 0.002, 0.02, 1.0, 0.05)
    if instrument == "bell":  # FM: inharmonic partials with a decaying modulation index
        t = np.arange(n) / sr
        index = 3.0 * np.exp(-2.5 * t)
        tone = np.sin(2 * np.pi * freq * t + index * np.sin(2 * np.pi * 1.4 * freq * t))
        return tone * np.exp(-1.8 * t) * _adsr(n, sr, 0.002, 0.01, 1.0, 0.1)
    if instrument == "bass":
        tone = _harmonic_tone(freq, n, sr, [1.0, 0.5, 0.25, 0.1], decay_rates=[2, 3, 4, 5])
        return tone * _adsr(n, sr, 0.01, 0.1, 0.7, 0.05)
    if instrument == "lead":  # square-ish: odd harmonics
        amps = np.where(k % 2 == 1, 1 / k, 0.0)
        return _harmonic_tone(freq, n, sr, amps, vibrato=0.003, rng=rng) * _adsr(
            n, sr, 0.02, 0.1, 0.6, 0.08
        )
    raise ValueError(f"unknown instrument {instrument}")


def _drum(hit: str, sr: int, rng) -> np.ndarray:
    if hit == "kick":
        n = int(0.25 * sr)
        t = np.arange(n) / sr
        freq = 50 + 90 * np.exp(-t / 0.03)
        return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.12)
    if hit == "snare":
        n = int(0.2 * sr)
        t = np.arange(n) / sr
        noise = _shape_noise(rng.standard_normal(n), sr, lambda f: (f > 1000) & (f < 7000))
        return (0.7 * noise + 0.4 * np.sin(2 * np.pi * 185 * t)) * np.exp(-t / 0.06)
    n = int(0.06 * sr)  # hi-hat
    t = np.arange(n) / sr
    return _shape_noise(rng.standard_normal(n), sr, lambda f: f > 6000) * np.exp(-t / 0.015)


def _add(buffer: np.ndarray, start: int, sound: np.ndarray, gain: float, pan: float) -> None:
    """Mix `sound` into a (frames, 2) buffer at `start`, panned (0 left .. 1 right)."""
    end = min(buffer.shape[0], start + sound.size)
    if end <= start:
        return
    piece = gain * sound[: end - start]
    buffer[start:end, 0] += piece * np.cos(pan * np.pi / 2)
    buffer[start:end, 1] += piece * np.sin(pan * np.pi / 2)


PROGRESSIONS = ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 4, 4), (1, 4, 0, 5), (0, 2, 3, 4))
MAJOR, MINOR = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)


def synth_music(seconds: float, sr: int, classical: bool, rng: np.random.Generator) -> np.ndarray:
    """A (frames, 2) stereo piece: chords, bass and melody (and drums unless classical)."""
    n = int(round(seconds * sr))
    buffer = np.zeros((n, 2))
    bpm = rng.uniform(60, 100) if classical else rng.uniform(85, 150)
    beat = 60.0 / bpm
    scale = MAJOR if rng.random() < 0.6 else MINOR
    root = int(rng.integers(48, 60))
    progression = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    pool = ("piano", "strings", "organ", "pluck") if classical else ("piano", "organ", "pluck")
    chord_inst = pool[int(rng.integers(len(pool)))]
    lead_inst = (
        ("piano", "strings", "bell")[int(rng.integers(3))]
        if classical
        else (("lead", "bell", "pluck")[int(rng.integers(3))])
    )
    bar = 4 * beat

    def degree(step: int) -> int:
        octave, position = divmod(step, 7)
        return root + 12 * octave + scale[position]

    for bar_index in range(int(np.ceil(seconds / bar))):
        chord_root = progression[bar_index % len(progression)]
        start = int(bar_index * bar * sr)
        for voice_index, step in enumerate((chord_root, chord_root + 2, chord_root + 4)):
            note = _instrument_note(chord_inst, degree(step), bar * 1.02, sr, rng)
            _add(buffer, start, note, 0.22, 0.3 + 0.2 * voice_index)
        for beat_index in range(4):  # bass on the beats
            at = start + int(beat_index * beat * sr)
            note = _instrument_note("bass", degree(chord_root) - 12, beat * 0.9, sr, rng)
            _add(buffer, at, note, 0.35 if not classical else 0.2, 0.5)
        position = 0.0  # melody: a random walk on the scale, quarter and eighth notes
        step = chord_root + 7 + int(rng.integers(-2, 3))
        while position < 4 * beat - 1e-6:
            length = beat * (0.5 if rng.random() < 0.5 else 1.0)
            if rng.random() < 0.85:
                note = _instrument_note(lead_inst, degree(step), length * 0.95, sr, rng)
                _add(buffer, start + int(position * sr), note, 0.25, 0.65)
            step += int(rng.integers(-2, 3))
            position += length
        if not classical:
            for eighth in range(8):
                at = start + int(eighth * beat / 2 * sr)
                _add(buffer, at, _drum("hat", sr, rng), 0.12, 0.7)
                if eighth in (0, 4) or (eighth == 6 and rng.random() < 0.4):
                    _add(buffer, at, _drum("kick", sr, rng), 0.6, 0.5)
                if eighth in (2, 6):
                    _add(buffer, at, _drum("snare", sr, rng), 0.35, 0.45)
    return buffer


# ---------------------------------------------------------------- noise


def _shape_noise(white: np.ndarray, sr: int, gain) -> np.ndarray:
    """Filter white noise in the frequency domain by `gain(freqs)` (array or boolean mask)."""
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(white.size, 1 / sr)
    shaped = np.fft.irfft(spectrum * gain(freqs), n=white.size)
    return shaped / (np.std(shaped) + 1e-12)


def _coloured(n: int, sr: int, exponent: float, rng) -> np.ndarray:
    """Noise with power spectrum ~ 1/f**exponent (0 white, 1 pink, 2 brown), 20 Hz floor."""
    return _shape_noise(
        rng.standard_normal(n), sr, lambda f: 1 / np.maximum(f, 20.0) ** (exponent / 2)
    )


def _impulses(n: int, sr: int, rate: float, rng, ring_hz=(2000, 6000), decay=(0.005, 0.04)):
    """Poisson impulses, each a decaying resonance (clatter, rain drops, key clicks)."""
    out = np.zeros(n)
    count = rng.poisson(rate * n / sr)
    for at in rng.integers(0, n, size=count):
        length = min(n - at, int(0.2 * sr))
        t = np.arange(length) / sr
        freq = rng.uniform(*ring_hz)
        tau = rng.uniform(*decay)
        ring = np.sin(2 * np.pi * freq * t) + 0.5 * rng.standard_normal(length)
        out[at : at + length] += rng.uniform(0.2, 1.0) * ring * np.exp(-t / tau)
    return out / (np.std(out) + 1e-12)


def synth_noise(kind: str, seconds: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A mono noise of one of NOISE_KINDS, unit-ish RMS."""
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    if kind == "white":
        return rng.standard_normal(n)
    if kind == "pink":
        return _coloured(n, sr, 1.0, rng)
    if kind == "brown":
        return _coloured(n, sr, 2.0, rng)
    if kind == "hum":  # mains hum: 50 or 60 Hz and its harmonics, a little buzz
        mains = 50.0 if rng.random() < 0.5 else 60.0
        hum = sum(
            rng.uniform(0.3, 1.0) / h * np.sin(2 * np.pi * h * mains * t + rng.uniform(0, 6.3))
            for h in range(1, 9)
        )
        return hum / np.std(hum) + 0.05 * _coloured(n, sr, 1.0, rng)
    if kind == "clatter":  # dishes, cutlery: ringing impulses over a room tone
        return _impulses(n, sr, rng.uniform(4, 14), rng) + 0.3 * _coloured(n, sr, 1.5, rng)
    if kind == "fan":  # low-passed noise, modulated at the blade rate, plus the motor tone
        base = _shape_noise(rng.standard_normal(n), sr, lambda f: 1 / (1 + (f / 400.0) ** 2))
        blade = 1 + 0.25 * np.sin(2 * np.pi * rng.uniform(15, 40) * t)
        motor = 0.2 * np.sin(2 * np.pi * rng.uniform(90, 200) * t)
        return base * blade + motor
    if kind == "rain":
        drops = _impulses(n, sr, rng.uniform(80, 200), rng, (3000, 8000), (0.001, 0.006))
        return 0.5 * drops + _coloured(n, sr, 0.8, rng)
    if kind == "traffic":  # brown rumble with cars passing by
        rumble = _coloured(n, sr, 2.0, rng)
        swell = np.ones(n)
        for centre in rng.uniform(0, seconds, size=max(1, int(seconds / 3))):
            swell += 2.5 * np.exp(-(((t - centre) / rng.uniform(0.8, 2.0)) ** 2))
        return rumble * swell
    if kind == "typing":
        clicks = _impulses(n, sr, rng.uniform(5, 9), rng, (1500, 4000), (0.002, 0.01))
        return clicks + 0.1 * _coloured(n, sr, 1.0, rng)
    raise ValueError(f"unknown noise kind '{kind}'; expected one of {NOISE_KINDS}")


# ---------------------------------------------------------------- speech


def synth_reading(speaker, seconds: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One reader's generic sentences with pauses, cut to `seconds` (20 ms fade-out)."""
    n = int(round(seconds * sr))
    pieces, total = [], 0
    while total < n:
        prosody, _ = emotion_prosody(speaker, "neu" if rng.random() < 0.7 else "hap", rng)
        speech = synthesize(
            generic_sentence(rng), speaker.voice, prosody, int(rng.integers(2**31)), sr
        )
        pause = np.zeros(int(rng.uniform(0.15, 0.7) * sr))
        pieces += [speech, pause]
        total += speech.size + pause.size
    audio = np.concatenate(pieces)[:n] + 3e-4 * rng.standard_normal(n)  # no digital silence
    fade = min(n, int(0.02 * sr))
    audio[n - fade :] *= np.linspace(1, 0, fade)
    return audio


# ---------------------------------------------------------------- the bank


def _normalise(audio: np.ndarray, peak: float) -> np.ndarray:
    return (audio * (peak / (np.max(np.abs(audio)) + 1e-12))).astype(np.float32)


def _file_name(kind: str, subset: str, number: int) -> str:
    return f"{kind}-{STEMS.get(subset, subset)}-{number:04d}.wav"


def write_musan_bank(
    root: str | os.PathLike, seed: int, files_per_type: int, seconds: float
) -> dict:
    """Write the MUSAN-layout bank at `root` (replaced atomically); returns a summary dict."""
    if files_per_type < 2:
        raise ValueError(
            f"musan files_per_type must be >= 2 (train and test pools), got {files_per_type}"
        )
    if seconds <= 0:
        raise ValueError(f"musan file seconds must be > 0, got {seconds}")
    root = Path(root)
    readers = other_speakers(seed + 1, files_per_type, prefix="R")
    summary: dict = {"root": str(root), "files": {}, "odd_formats": []}
    annotations: dict[tuple[str, str], list[str]] = {}
    with atomic_dir(root) as staging:
        for type_index, kind in enumerate(("music", "noise", "speech")):
            subsets = SUBSETS[kind]
            counters = dict.fromkeys(subsets, 0)
            for index in range(files_per_type):
                rng = np.random.default_rng([seed, type_index, index])
                subset = subsets[index % len(subsets)]
                name = _file_name(kind, subset, counters[subset])
                counters[subset] += 1
                sr, channels = file_format(kind, index)
                audio, note = _make(kind, subset, index, seconds, sr, channels, rng, readers)
                path = staging / kind / subset / name
                path.parent.mkdir(parents=True, exist_ok=True)
                write_audio(path, audio, sr)
                annotations.setdefault((kind, subset), []).append(f"{name[:-4]} {note}")
                summary["files"][kind] = summary["files"].get(kind, 0) + 1
                if (sr, channels) != (16000, 1):
                    summary["odd_formats"].append(f"{kind}/{subset}/{name} {sr} Hz {channels} ch")
        _write_metadata(staging, annotations)
        write_marker(staging, "a noise bank in the MUSAN layout")
    log.info("MUSAN-layout bank at %s: %s", root, summary)
    return summary


def _make(kind, subset, index, seconds, sr, channels, rng, readers) -> tuple[np.ndarray, str]:
    """Audio of one file ((frames,) or (frames, 2)) and its ANNOTATIONS description."""
    if kind == "music":
        classical = subset in CLASSICAL_SUBSETS
        stereo = synth_music(seconds, sr, classical, rng)
        audio = stereo if channels == 2 else stereo.mean(axis=1)
        note = "N " + ("Classical" if classical else ("Pop", "Rock", "Electronic")[index % 3])
        return _normalise(audio, rng.uniform(0.4, 0.9)), note
    if kind == "noise":
        noise_kind = NOISE_KINDS[index % len(NOISE_KINDS)]
        audio = synth_noise(noise_kind, seconds, sr, rng)
        if channels == 2:
            audio = np.stack([audio, np.roll(audio, int(0.01 * sr))], axis=1)
        return _normalise(audio, rng.uniform(0.3, 0.9)), noise_kind
    reader = readers[index % len(readers)]
    audio = synth_reading(reader, seconds, sr, rng)
    if channels == 2:
        audio = np.stack([audio, audio], axis=1)
    return _normalise(audio, rng.uniform(0.4, 0.8)), f"{reader.speaker_id} {reader.voice} English"


def _write_metadata(staging: Path, annotations: dict[tuple[str, str], list[str]]) -> None:
    """ANNOTATIONS and LICENSE per subset and a README: MUSAN ingestion must ignore them."""
    for (kind, subset), lines in annotations.items():
        write_text(staging / kind / subset / "ANNOTATIONS", "\n".join(lines) + "\n")
        write_text(
            staging / kind / subset / "LICENSE",
            f"The {kind}/{subset} files of this bank are synthetic, generated by asrser.synthesis;\n"
            "they stand in for MUSAN (Snyder, Chen, Povey 2015), whose files carry their own "
            "licenses.\n",
        )
    write_text(
        staging / "README",
        "A synthetic noise bank in the MUSAN layout: music/, speech/, noise/ with subsets.\n"
        "Written by asrser.synthesis.musan_bank for the embedded demo; not the MUSAN corpus.\n",
    )
