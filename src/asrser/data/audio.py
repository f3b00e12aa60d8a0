"""Audio I/O: soundfile for reading and writing, torchaudio's functional ops for resampling.

Everything inside the pipeline is float32 mono at 16 kHz; files that are not are converted on read.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from asrser import SAMPLE_RATE
from asrser.common.io import atomic_path

SUBTYPE = "PCM_16"


class AudioError(ValueError):
    """An audio file is missing, unreadable or empty."""


@dataclass(frozen=True)
class AudioInfo:
    frames: int
    sample_rate: int
    channels: int

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


def _unreadable(path: str | os.PathLike, exc: Exception) -> AudioError:
    """AudioError naming the file once, as given. libsndfile's own message opens with the path
    as the bytes it was handed ("Error opening b'...': "), so only its reason is kept. It says
    a file it does not recognise "does not exist" (a text file named .mp3, say): where it does
    exist, the format is the problem."""
    reason = getattr(exc, "error_string", None) or str(exc)
    if not os.path.lexists(path):
        reason = "no such file"
    elif "does not exist" in reason and os.path.isfile(path):
        reason = "not an audio format this reader recognises"
    return AudioError(f"{path}: unreadable audio ({reason})")


def _os_path(path: str | os.PathLike) -> bytes:
    """The path as the file system has it: a name that is not UTF-8 (which Python holds with
    surrogate escapes) reaches libsndfile as its own bytes."""
    return os.fsencode(path)


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Header facts of an audio file; AudioError (naming the file) when it cannot be read."""
    try:
        info = sf.info(_os_path(path))
    except Exception as exc:  # soundfile raises several types for bad headers
        raise _unreadable(path, exc) from exc
    return AudioInfo(frames=info.frames, sample_rate=info.samplerate, channels=info.channels)


# torchaudio's resampling kernel holds (orig_sr / g) x (target_sr / g) taps, g = gcd of the
# two rates: 44.1 kHz -> 16 kHz is 441 x 160, but 44101 Hz would be 44101 x 16000 (12 GB and
# half a minute for two seconds). Rates whose reduced ratio is larger are read as the nearest
# rate whose ratio is not: a small fraction of a percent off in pitch and tempo (0.002 % at
# 44101 Hz, 0.02 % at 22254 Hz).
MAX_RATIO_TERM = 1000


def resample(audio: np.ndarray, orig_sr: int, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited resampling of a 1-D float32 signal (torchaudio.functional.resample)."""
    if orig_sr == target_sr:
        return audio
    import torchaudio.functional as AF

    from asrser.common.tensors import aligned

    source_sr = kernel_friendly_rate(orig_sr, target_sr)
    out = AF.resample(aligned(np.ascontiguousarray(audio)), source_sr, target_sr)
    return out.numpy().astype(np.float32, copy=False)


def kernel_friendly_rate(orig_sr: int, target_sr: int) -> int:
    """orig_sr, or the nearest rate whose ratio to target_sr reduces to terms of at most
    MAX_RATIO_TERM (a bounded resampling kernel)."""

    def bounded(rate: int) -> bool:
        divisor = math.gcd(rate, target_sr)
        return max(rate, target_sr) // divisor <= MAX_RATIO_TERM

    offset = 0
    while True:  # ends: any multiple of target_sr up to MAX_RATIO_TERM times it qualifies
        for rate in (orig_sr - offset, orig_sr + offset):
            if rate > 0 and bounded(rate):
                return rate
        offset += 1


def _read_frames(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """(frames, channels) float32 samples and the sample rate; AudioError naming the file."""
    try:
        audio, sr = sf.read(_os_path(path), dtype="float32", always_2d=True)
    except Exception as exc:
        raise _unreadable(path, exc) from exc
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: empty audio (0 samples)")
    # Only float files can hold them; one would spread through filtering and pooling and come
    # out as a confident, arbitrary emotion (argmax over NaN is the first class).
    not_finite = audio.size - int(np.count_nonzero(np.isfinite(audio)))
    if not_finite:
        raise AudioError(f"{path}: {not_finite} samples are not finite numbers (NaN or infinity)")
    return audio, sr


def read_audio(path: str | os.PathLike, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Read a file as float32 mono at `target_sr` (channels averaged, resampled when needed)."""
    audio, sr = _read_frames(path)
    mono = audio.mean(axis=1) if audio.shape[1] > 1 else audio[:, 0]
    return resample(np.ascontiguousarray(mono, dtype=np.float32), sr, target_sr)


def read_channels(path: str | os.PathLike, target_sr: int = SAMPLE_RATE) -> list[np.ndarray]:
    """Each channel of a file as float32 mono at `target_sr` (a call recorded with one party on
    each channel: each party on its own)."""
    audio, sr = _read_frames(path)
    return [resample(np.ascontiguousarray(channel), sr, target_sr) for channel in audio.T]


def write_audio(path: str | os.PathLike, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write 16-bit PCM (format from the suffix: .flac or .wav), atomically."""
    path = Path(path)
    fmt = {".flac": "FLAC", ".wav": "WAV"}.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unsupported audio suffix; expected .flac or .wav")
    with atomic_path(path) as tmp:
        sf.write(str(tmp), audio, sample_rate, subtype=SUBTYPE, format=fmt)
