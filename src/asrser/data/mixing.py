"""Mixing speech with noise at a target SNR, as written to 16-bit PCM.

SNR definition (Kaldi, Lhotse, audiomentations): the ratio of the whole-utterance mean-square
powers of the speech and of the noise segment added to it, ``10 * log10(P_speech / P_noise)``.

- A noise file longer than the utterance is cut at a seeded random offset; a shorter one is
  looped (tiled), starting at a seeded random offset into the file.
- Babble (MUSAN ``speech``) sums several talkers, each cut from its own file at its own offset and
  brought to unit RMS first (so no single loud recording dominates), *before* the sum is scaled.
- The speech keeps its level (gain 1); only the noise is scaled to the SNR. A mixture whose peak
  would not fit 16-bit PCM is scaled down as a whole, speech and noise by the same factor, so the
  SNR is kept; the caller counts these.
- The realised SNR is measured on what is written: the speech component ``speech_gain * speech``
  against everything else in the quantised file (the noise plus the 16-bit rounding error).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from asrser import SAMPLE_RATE
from asrser.data.audio import AudioError, read_audio

PCM16_SCALE = 32768.0
# Largest positive 16-bit sample as a float: a peak above this would clip when written.
CLIP_LIMIT = 32767.0 / PCM16_SCALE
# Mean-square power of one 16-bit step: a signal weaker than this is treated as silence.
SILENCE_POWER = (1.0 / PCM16_SCALE) ** 2
# Random offsets tried before a noise file is declared silent (MUSAN files contain pauses).
MAX_SEGMENT_TRIES = 10


class MixingError(ValueError):
    """Speech or noise that cannot be mixed at an SNR (e.g. digital silence)."""


def signal_power(x: np.ndarray) -> float:
    """Mean-square power, accumulated in float64 (pairwise sum; no BLAS thread pool)."""
    return float(np.square(x, dtype=np.float64).sum() / max(len(x), 1))


def snr_db(speech: np.ndarray, noise: np.ndarray) -> float:
    """10*log10(P_speech / P_noise) of two equally long signals."""
    return 10.0 * np.log10(signal_power(speech) / signal_power(noise))


def draw_offset(rng: np.random.Generator, noise_frames: int, length: int) -> int:
    """A seeded start offset: anywhere a cut fits, or anywhere in a file that will be looped."""
    if noise_frames >= length:
        return int(rng.integers(0, noise_frames - length + 1))
    return int(rng.integers(0, noise_frames))


def loop_or_cut(noise: np.ndarray, length: int, offset: int) -> np.ndarray:
    """`length` samples of `noise` from `offset`, wrapping around to its start when it runs out."""
    if not 0 <= offset < len(noise):
        raise ValueError(f"offset {offset} outside noise of {len(noise)} samples")
    if offset + length <= len(noise):
        return noise[offset : offset + length]
    rotated = np.concatenate([noise[offset:], noise[:offset]]) if offset else noise
    return np.resize(rotated, length)


class NoiseBank:
    """Noise files of one process, each decoded once and kept (LRU, bounded by `max_cache_bytes`).

    Files longer than `max_cached_seconds` (MUSAN music and speech run for minutes) are not cached
    whole; only the needed segment is read, which costs about as much as reading the utterance.
    """

    def __init__(self, max_cache_bytes: int = 1 << 30, max_cached_seconds: float = 120.0):
        self.max_cache_bytes = max_cache_bytes
        self.max_cached_frames = int(max_cached_seconds * SAMPLE_RATE)
        self._frames: dict[str, int] = {}
        self._needs_conversion: set[str] = set()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cached_bytes = 0
        self.files_read = 0  # whole-file decodes, for tests and benchmarks

    def frames(self, path: str) -> int:
        """Length in samples at 16 kHz."""
        if path not in self._frames:
            try:
                info = sf.info(path)
            except Exception as exc:
                raise AudioError(f"{path}: unreadable noise file ({exc})") from exc
            if info.frames == 0:
                raise AudioError(f"{path}: empty noise file (0 samples)")
            if info.samplerate != SAMPLE_RATE or info.channels != 1:
                # Not yet 16 kHz mono: always decode (and convert) it whole.
                self._needs_conversion.add(path)
                self._frames[path] = len(self._whole(path))
            else:
                self._frames[path] = info.frames
        return self._frames[path]

    def segment(self, path: str, offset: int, length: int) -> np.ndarray:
        """`length` samples from `offset` (looped when the file is shorter), float32."""
        frames = self.frames(path)
        if frames <= self.max_cached_frames or path in self._needs_conversion:
            return loop_or_cut(self._whole(path), length, offset)
        if offset + length <= frames:
            segment, _ = sf.read(path, start=offset, frames=length, dtype="float32")
            return segment
        self.files_read += 1
        return loop_or_cut(read_audio(path), length, offset)

    def _whole(self, path: str) -> np.ndarray:
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        audio = read_audio(path)
        self.files_read += 1
        self._cache[path] = audio
        self._cached_bytes += audio.nbytes
        while self._cached_bytes > self.max_cache_bytes and len(self._cache) > 1:
            _, evicted = self._cache.popitem(last=False)
            self._cached_bytes -= evicted.nbytes
        return audio


def combine_segments(segments: list[np.ndarray], noise_type: str) -> np.ndarray:
    """The noise to add: one segment, or for babble the sum of unit-RMS talkers."""
    if noise_type != "speech":
        if len(segments) != 1:
            raise ValueError(f"{noise_type} noise takes one file, got {len(segments)}")
        return segments[0]
    babble = np.zeros(len(segments[0]), dtype=np.float32)
    for segment in segments:
        power = signal_power(segment)
        if power > SILENCE_POWER:
            babble += segment * np.float32(1.0 / np.sqrt(power))
    return babble


def draw_noise_segment(
    rng: np.random.Generator, bank: NoiseBank, path: str, length: int
) -> tuple[int, np.ndarray]:
    """A seeded offset into `path` whose segment is not silent, and that segment."""
    for _ in range(MAX_SEGMENT_TRIES):
        offset = draw_offset(rng, bank.frames(path), length)
        segment = bank.segment(path, offset, length)
        if signal_power(segment) > SILENCE_POWER:
            return offset, segment
    raise MixingError(
        f"{path}: noise is silent in {MAX_SEGMENT_TRIES} random segments of {length} samples"
    )


def draw_from_pool(
    rng: np.random.Generator, bank: NoiseBank, pool: list[str], first: int, length: int
) -> tuple[str, int, np.ndarray, list[str]]:
    """An audible segment from `pool[first]`, or else from the next files of the pool in turn.

    Returns the file used, its offset, the segment and the files passed over as silent. A MUSAN
    file that is digitally silent (or silent but for a short event) is then one noise the
    corpus goes without, not a failed corpus: ingestion reads headers only, so it cannot know.
    Which file is used depends only on the seed and the files' samples, not on worker order.
    """
    passed_over = []
    for step in range(len(pool)):
        path = pool[(first + step) % len(pool)]
        try:
            offset, segment = draw_noise_segment(rng, bank, path, length)
        except MixingError:
            passed_over.append(path)
            continue
        return path, offset, segment, passed_over
    raise MixingError(
        f"all {len(pool)} noise files of the pool are silent in {MAX_SEGMENT_TRIES} random "
        f"segments of {length} samples (e.g. {pool[0]})"
    )


def choose_talkers(rng: np.random.Generator, n_files: int, talkers: int) -> list[int]:
    """Indices of `talkers` babble files: distinct while the pool allows, then repeats."""
    chosen = list(rng.permutation(n_files)[: min(talkers, n_files)])
    if talkers > n_files:
        chosen += list(rng.integers(0, n_files, size=talkers - n_files))
    return [int(i) for i in chosen]


def quantize_pcm16(x: np.ndarray) -> np.ndarray:
    """The int16 samples a float signal in [-1, 1) becomes (soundfile reads them back as q/32768)."""
    return np.clip(np.rint(x * PCM16_SCALE), -32768, 32767).astype(np.int16)


def apply_gains(
    speech: np.ndarray, noise: np.ndarray, speech_gain: float, noise_gain: float
) -> np.ndarray:
    """The float32 mixture; shared by mixing and recreation so both give identical samples."""
    return speech * np.float32(speech_gain) + noise * np.float32(noise_gain)


def realised_snr_db(speech_component: np.ndarray, written: np.ndarray) -> float:
    """SNR of a written mixture: the speech component against everything else in the file."""
    written64 = written.astype(np.float64) / PCM16_SCALE if written.dtype == np.int16 else written
    residual = np.asarray(written64, dtype=np.float64) - speech_component.astype(np.float64)
    return 10.0 * np.log10(signal_power(speech_component) / signal_power(residual))


@dataclass(frozen=True)
class Mixture:
    samples: np.ndarray  # int16, exactly what is written
    speech_gain: float
    noise_gain: float
    clip_rescaled: bool
    realised_snr_db: float


def mix_at_snr(
    speech: np.ndarray, noise: np.ndarray, target_snr_db: float, what: str = "speech"
) -> Mixture:
    """Add `noise` to `speech` at `target_snr_db`, rescaling the whole mixture if it would clip.

    `what` names the utterance in errors. Gains are rounded to float32 (what is applied), so a
    manifest that records them lets `apply_gains` recreate the samples exactly.
    """
    if len(speech) != len(noise):
        raise ValueError(f"{what}: speech has {len(speech)} samples, noise {len(noise)}")
    speech_power = signal_power(speech)
    noise_power = signal_power(noise)
    if speech_power <= SILENCE_POWER:
        raise MixingError(f"{what}: speech is silent (RMS {np.sqrt(speech_power):.2e}); no SNR")
    if noise_power <= SILENCE_POWER:
        raise MixingError(f"{what}: noise segment is silent (RMS {np.sqrt(noise_power):.2e})")
    speech_gain = 1.0
    noise_gain = float(
        np.float32(np.sqrt(speech_power / (noise_power * 10.0 ** (target_snr_db / 10.0))))
    )
    mixture = apply_gains(speech, noise, speech_gain, noise_gain)
    peak = float(np.max(np.abs(mixture)))
    clip_rescaled = peak > CLIP_LIMIT
    if clip_rescaled:
        scale = CLIP_LIMIT / peak
        speech_gain = float(np.float32(speech_gain * scale))
        noise_gain = float(np.float32(noise_gain * scale))
        mixture = apply_gains(speech, noise, speech_gain, noise_gain)
    samples = quantize_pcm16(mixture)
    realised = realised_snr_db(speech * np.float32(speech_gain), samples)
    return Mixture(samples, speech_gain, noise_gain, clip_rescaled, realised)


def check_readable(paths: list[str], what: str) -> None:
    """Fail early, naming up to five paths, when files a job needs are missing."""
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise FileNotFoundError(f"{len(missing)} {what} file(s) missing: {shown}")
