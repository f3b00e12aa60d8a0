"""eSpeak NG speech synthesis through ctypes, from the `espeakng-loader` wheel (library and voices).

No system install: the wheel ships libespeak-ng and its espeak-ng-data folder. Synthesis runs in
eSpeak's synchronous mode, a callback collecting the int16 samples; the result is resampled to
16 kHz float32 with `asrser.data.audio.resample`.

Why the library is loaded afresh for every utterance: eSpeak keeps synthesis state in C statics
(pitch-flutter phase, gain control, cycle counters) that espeak_Terminate/espeak_Initialize do not
reset, so one request gives different samples depending on what the process synthesised before.
A private copy of the library is dlopen'ed and dlclose'd around each call (about 3 ms), which makes
every output a pure function of (text, voice, prosody, seed): corpora are byte-identical whatever
the number of worker processes or the order of the work. eSpeak is not thread-safe, so a
module-level lock serialises calls within a process; parallelism comes from processes.
"""

from __future__ import annotations

import _ctypes
import atexit
import contextlib
import ctypes
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from asrser import SAMPLE_RATE
from asrser.data.audio import resample, write_audio

# speak_lib.h constants.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_BUFFER_MS = 500
_RATE, _VOLUME, _PITCH, _RANGE, _WORDGAP = 1, 2, 3, 4, 7

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class SynthesisError(RuntimeError):
    """eSpeak could not be loaded, did not know a voice, or failed to synthesise."""


@dataclass(frozen=True)
class Prosody:
    """eSpeak's prosody parameters (espeakRATE, espeakPITCH, espeakRANGE, espeakVOLUME, WORDGAP)."""

    rate: int = 175  # words per minute, 80..450
    pitch: int = 50  # base pitch within the voice's range, 0..100
    pitch_range: int = 50  # intonation range, 0..100 (0 monotone)
    volume: int = 100  # amplitude, 0..200
    word_gap: int = 0  # extra pause between words, units of 10 ms

    def clipped(self) -> Prosody:
        """The same prosody with every parameter inside eSpeak's valid range."""
        return Prosody(
            rate=int(np.clip(round(self.rate), 80, 450)),
            pitch=int(np.clip(round(self.pitch), 0, 100)),
            pitch_range=int(np.clip(round(self.pitch_range), 0, 99)),
            volume=int(np.clip(round(self.volume), 0, 200)),
            word_gap=int(np.clip(round(self.word_gap), 0, 100)),
        )


def data_path() -> Path:
    import espeakng_loader

    return Path(espeakng_loader.get_data_path())


@cache
def available_languages() -> frozenset[str]:
    """Language voice names of the shipped data (lower case), e.g. 'en-us', 'en-gb-x-rp'."""
    return frozenset(p.name.lower() for p in (data_path() / "lang").rglob("*") if p.is_file())


@cache
def available_variants() -> frozenset[str]:
    """Voice variant names of the shipped data (as spelled there), e.g. 'f3', 'm1', 'Alicia'."""
    return frozenset(p.name for p in (data_path() / "voices" / "!v").iterdir() if p.is_file())


def check_voice(voice: str) -> None:
    """ValueError unless `voice` is '<language>' or '<language>+<variant>' of the shipped data.

    eSpeak silently falls back to a default for an unknown variant, so it is checked here.
    """
    language, _, variant = voice.partition("+")
    if language.lower() not in available_languages():
        raise ValueError(f"eSpeak voice '{voice}': unknown language '{language}'")
    if variant and variant not in available_variants():
        raise ValueError(
            f"eSpeak voice '{voice}': unknown variant '{variant}'; "
            f"available: {', '.join(sorted(available_variants()))}"
        )


def _private_library_path() -> str:
    """A path to a private copy of libespeak-ng that nothing else in the process can have open,
    so that dlclose really unloads it. An anonymous in-memory file (Linux memfd): nothing to clean
    up, and forked workers inherit it; elsewhere a temporary file removed at exit."""
    import espeakng_loader

    image = Path(espeakng_loader.get_library_path()).read_bytes()
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("libespeak-ng-private")
        with os.fdopen(os.dup(fd), "wb") as handle:
            handle.write(image)
        return f"/proc/self/fd/{fd}"
    handle, path = tempfile.mkstemp(prefix="asrser-espeak-", suffix=".so")
    with os.fdopen(handle, "wb") as out:
        out.write(image)
    owner = os.getpid()
    atexit.register(lambda: os.getpid() == owner and os.unlink(path))
    return path


class _Engine:
    """Owns a private copy of libespeak-ng, loaded and unloaded around each synthesis."""

    def __init__(self) -> None:
        self._library = _private_library_path()
        self._data = str(data_path()).encode()
        self._chunks: list[np.ndarray] = []
        self._callback = _SynthCallback(self._collect)
        self._libc = ctypes.CDLL(None)

    def _collect(self, samples, count, _events) -> int:
        if count > 0 and samples:
            self._chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0  # 0: continue synthesis

    def synthesize(
        self, text: str, voice: str, prosody: Prosody, seed: int
    ) -> tuple[np.ndarray, int]:
        handle = _ctypes.dlopen(self._library, os.RTLD_NOW | os.RTLD_LOCAL)
        try:
            lib = ctypes.CDLL(self._library, handle=handle)
            return self._run(lib, text, voice, prosody, seed)
        finally:
            _ctypes.dlclose(handle)

    def _run(
        self, lib, text: str, voice: str, prosody: Prosody, seed: int
    ) -> tuple[np.ndarray, int]:
        sample_rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, self._data, _INITIALIZE_DONT_EXIT
        )
        if sample_rate <= 0:
            raise SynthesisError(f"eSpeak failed to initialise with data at {self._data.decode()}")
        try:
            lib.espeak_SetSynthCallback(self._callback)
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise SynthesisError(f"eSpeak voice '{voice}' could not be set")
            p = prosody.clipped()
            for parameter, value in (
                (_RATE, p.rate),
                (_VOLUME, p.volume),
                (_PITCH, p.pitch),
                (_RANGE, p.pitch_range),
                (_WORDGAP, p.word_gap),
            ):
                if lib.espeak_SetParameter(parameter, value, 0) != 0:
                    raise SynthesisError(f"eSpeak rejected parameter {parameter}={value}")
            # The noise sources (breath, Klatt aspiration) draw from libc's and eSpeak's generators.
            self._libc.srand(ctypes.c_uint(seed & 0xFFFFFFFF))
            lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))
            encoded = text.encode("utf-8") + b"\0"
            self._chunks = []
            status = lib.espeak_Synth(
                ctypes.c_char_p(encoded),
                len(encoded),
                0,
                _POS_CHARACTER,
                0,
                _CHARS_UTF8,
                None,
                None,
            )
            if status != 0 or lib.espeak_Synchronize() != 0:
                raise SynthesisError(f"eSpeak failed (status {status}) on text {text!r}")
            samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            return samples, int(sample_rate)
        finally:
            self._chunks = []
            lib.espeak_Terminate()


_lock = threading.Lock()
_engine: _Engine | None = None


def _reset_after_fork() -> None:
    # A lock held by another thread at fork time would stay held forever in the child.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


@contextlib.contextmanager
def single_torch_thread() -> Iterator[None]:
    """Resample with one torch thread: short clips gain nothing from intra-op threads, and on a
    busy machine OpenMP threads contending for cores slowed resampling 50-fold (measured)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def synthesize_native(
    text: str, voice: str = "en-us", prosody: Prosody = Prosody(), seed: int = 0
) -> tuple[np.ndarray, int]:
    """int16 samples at eSpeak's native rate (22050 Hz) and that rate."""
    global _engine
    if not text.strip():
        raise ValueError("eSpeak: empty text")
    check_voice(voice)
    with _lock:
        if _engine is None:
            _engine = _Engine()
        samples, sample_rate = _engine.synthesize(text, voice, prosody, seed)
    if samples.size == 0:
        raise SynthesisError(f"eSpeak produced no audio for {text!r} with voice '{voice}'")
    return samples, sample_rate


def synthesize(
    text: str,
    voice: str = "en-us",
    prosody: Prosody = Prosody(),
    seed: int = 0,
    sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Speech for `text` as float32 mono at `sample_rate` (default 16 kHz).

    `voice` is '<language>[+<variant>]' of the shipped data, e.g. 'en-us+f3', 'en-gb-x-rp+m1'.
    The same arguments always give the same samples.
    """
    samples, native_rate = synthesize_native(text, voice, prosody, seed)
    audio = samples.astype(np.float32) / 32768.0
    with single_torch_thread():
        return resample(audio, native_rate, sample_rate)


@dataclass(frozen=True)
class SpeechJob:
    """One utterance to synthesise and write: eSpeak arguments plus recording-like framing."""

    path: str  # output file (.wav or .flac), written atomically
    text: str
    voice: str
    prosody: Prosody
    seed: int
    sample_rate: int = SAMPLE_RATE
    gain: float = 0.5  # headroom below full scale, as a recording level
    pad_seconds: tuple[float, float] = (0.0, 0.0)  # silence before and after the speech
    noise_floor: float = 0.0  # RMS of a faint Gaussian floor over the whole file (room, mic)


def render_job(job: SpeechJob) -> int:
    """Synthesise and write one job; returns the number of samples written."""
    speech = synthesize(job.text, job.voice, job.prosody, job.seed, job.sample_rate) * job.gain
    before, after = (round(s * job.sample_rate) for s in job.pad_seconds)
    audio = np.concatenate(
        [np.zeros(before, np.float32), speech, np.zeros(after, np.float32)]
    ).astype(np.float32)
    if job.noise_floor > 0:
        floor = np.random.default_rng([job.seed, 1]).standard_normal(audio.size)
        audio += (job.noise_floor * floor).astype(np.float32)
    write_audio(job.path, np.clip(audio, -1.0, 1.0), job.sample_rate)
    return int(audio.size)


def render_jobs(jobs: list[SpeechJob], processes: int = 1, desc: str = "speech") -> list[int]:
    """Render `jobs` (in parallel with `processes` forked workers); sample counts in job order.

    Each output depends only on its job (see the module docstring), so the files are the same
    whatever `processes` is.
    """
    import multiprocessing

    from tqdm import tqdm

    progress = dict(total=len(jobs), desc=desc, unit="utt", mininterval=2.0)
    if processes <= 1 or len(jobs) < 2:
        return [render_job(job) for job in tqdm(jobs, **progress)]
    # fork: Snakemake `script:` files have no __main__ guard, so spawn would re-run the job.
    context = multiprocessing.get_context("fork")
    with context.Pool(min(processes, len(jobs))) as pool:
        return list(tqdm(pool.imap(render_job, jobs, chunksize=4), **progress))
