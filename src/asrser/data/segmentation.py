"""Where to cut a long recording into model-sized segments: at its pauses.

The models were trained on single utterances, and they transcribe a stretch of several sentences
with the silences between them much worse than the same sentences one by one (the demo's ASR
models on minute-long recordings: WER 0.450 split at pauses, 1.30 cut only for length; README,
benchmarks/bench_segmentation.py). So a recording is first split into its stretches of speech at
pauses of at least `min_pause_seconds`, found by loudness in the speech band relative to the
file's own (so the same settings serve a clean recording and a noisy call), and only a stretch
still longer than the models' limit is cut further, at its quietest points. Energy is enough for
noise and music: the question is not whether a sound is speech but where the speaker stops. A
talker in the background is speech too; it is told apart only by level, on request
(foreground_db).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt

HOP_SECONDS = 0.01  # loudness, pauses and cuts on a 10-ms grid
# Pauses are found on 50-ms windows: short enough to see a 0.2-s pause, long enough that a noise
# floor does not flicker above the threshold from one window to the next.
PAUSE_WINDOW_SECONDS = 0.05
# A cut inside a long stretch weighs loudness over this window: long enough that the closure of a
# stop consonant (~50-100 ms of near silence inside a word) is not taken for a pause.
CUT_WINDOW_SECONDS = 0.2
# Points this close to the quietest count as equally quiet (a noise floor wobbles by a few dB),
# and the latest of them is taken: the next segment then has the most room to reach a pause.
QUIET_MARGIN_DB = 3.0
# The speech level is this percentile of the file's 50-ms loudness, the noise floor that
# percentile within FLOOR_SPAN_SECONDS either side (robust to clicks, to a file that is mostly
# silence or mostly speech, and to a background that changes: a fan switched on, a new room).
FLOOR_PERCENTILE, SPEECH_PERCENTILE = 10, 98
FLOOR_SPAN_SECONDS = 3.0
FLOOR_STEP_SECONDS = 0.5  # the local floor is computed this often and interpolated between
# A window is quiet below floor + this share of the speech-to-floor range; with less range than
# MIN_CONTRAST_DB over the whole file there is no pause to find (steady noise, speech throughout).
THRESHOLD_SHARE, MIN_CONTRAST_DB = 0.3, 10.0
# Speech reaches this share of the range somewhere in each stretch; quieter bursts (a door, a
# cough, a noise floor that swells) are counted as pause.
SPEECH_SHARE = 0.6
# Between sentences and turns; shorter gaps (commas, hesitations, stop closures) occur inside
# sentences. On the demo's one-minute recordings 0.3 s split 22 of 400 utterances, 0.5 s none.
DEFAULT_MIN_PAUSE_SECONDS = 0.5
PAD_SECONDS = 0.1  # of pause kept at each side of a stretch of speech (word onsets and tails)
# Loudness is measured in the band where voiced speech carries most of its energy (pitch
# harmonics, first and second formants), while hiss, rain, clatter and typing lie mostly above it
# and rumble, traffic and mains hum's fundamental below. On the demo's recordings at SNR 5 dB the
# full band took noise for speech (503 segments for 400 utterances, WER 1.05), this band much
# less (448, WER 0.85); README, benchmarks/bench_segmentation.py.
SPEECH_BAND_HZ = (150.0, 2000.0)
FILTER_CHUNK = 1 << 20  # samples filtered at a time: memory stays small for an hour-long file
# A recording that never gets louder than this holds no sound to predict (a muted channel,
# digital silence, dither): about ten steps of 16-bit audio, far below any speech recorded.
SILENCE_DBFS = -70.0


def speech_band(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """`audio` band-passed to SPEECH_BAND_HZ, chunk by chunk: a 4th-order Butterworth applied
    twice (the squared magnitude of a forward-backward pass, which was measured; its delay of a
    few ms does not matter on the 10-ms grid). After a sound that stops abruptly it rings on for
    ~20 ms, by which a pause found is shorter than the silence."""
    low, high = SPEECH_BAND_HZ
    high = min(high, 0.45 * sample_rate)  # below Nyquist at low sample rates
    sos = butter(4, (low, high), btype="bandpass", fs=sample_rate, output="sos")
    # A single pass let through enough noise at the band's edges to take it for speech: at SNR
    # 5 dB 636 segments for 400 utterances (WER 0.92), against 448 (0.85) twice.
    sos = np.vstack([sos, sos])
    state = np.zeros((sos.shape[0], 2))
    band = np.empty(len(audio), dtype=np.float32)
    for start in range(0, len(audio), FILTER_CHUNK):
        chunk = audio[start : start + FILTER_CHUNK]
        band[start : start + len(chunk)], state = sosfilt(sos, chunk, zi=state)
    return band


def loudness_db(audio: np.ndarray, hop: int, window: int) -> np.ndarray:
    """Mean power in dB of `window` samples centred on each multiple of `hop` (0, hop, ...)."""
    power = np.concatenate(([0.0], np.cumsum(np.square(audio, dtype=np.float64))))
    centres = np.arange(0, len(audio) + 1, hop)
    starts = np.clip(centres - window // 2, 0, len(audio))
    ends = np.clip(centres + window // 2, 0, len(audio))
    mean = (power[ends] - power[starts]) / np.maximum(ends - starts, 1)
    return 10.0 * np.log10(mean + 1e-10)


def local_floor(loudness: np.ndarray, span: int, step: int) -> np.ndarray:
    """FLOOR_PERCENTILE of `loudness` within `span` points either side of every `step`-th
    point, interpolated to every point (full windows only: near the ends, the first or last)."""
    width = 2 * span + 1
    if len(loudness) <= width:
        return np.full(len(loudness), np.percentile(loudness, FLOOR_PERCENTILE))
    grid = np.arange(0, len(loudness), step)
    starts = np.clip(grid - span, 0, len(loudness) - width)
    windows = np.lib.stride_tricks.sliding_window_view(loudness, width)[starts]
    return np.interp(np.arange(len(loudness)), grid, np.percentile(windows, FLOOR_PERCENTILE, 1))


def _runs(mask: np.ndarray) -> np.ndarray:
    """[start, end) index pairs of the runs of True in `mask`."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], mask, [False])).astype(np.int8)))
    return edges.reshape(-1, 2)


def speech_stretches(
    audio: np.ndarray,
    sample_rate: int = 16000,
    min_pause_seconds: float = DEFAULT_MIN_PAUSE_SECONDS,
    foreground_db: float | None = None,
) -> list[tuple[int, int]]:
    """[start, end) sample bounds of the stretches of speech between pauses.

    A pause is a run of at least `min_pause_seconds` of quiet windows (see THRESHOLD_SHARE);
    each stretch keeps PAD_SECONDS of the pauses around it (so with pauses of at least twice
    that, every stretch is at least PAD_SECONDS long). A file without a pause to find is one
    stretch, the whole file; so is a file that is all pause (nothing to tell apart).
    foreground_db: a loud run that stays more than this many dB below the file's speech level
    is counted as pause too, so a talker or TV in the background is left out (on the demo's
    recordings with a talker 15 dB down, 10 dB kept the speaker's 400 utterances and dropped
    the talker: WER 0.84 against 2.2; it is off by default because the quieter party of a call
    mixed to mono, or a speaker who trails off, may be that far down).
    """
    hop = max(1, round(HOP_SECONDS * sample_rate))
    window = round(PAUSE_WINDOW_SECONDS * sample_rate)
    loudness = loudness_db(speech_band(audio, sample_rate), hop, window)
    floor, speech = np.percentile(loudness, [FLOOR_PERCENTILE, SPEECH_PERCENTILE])
    whole = [(0, len(audio))]
    if speech - floor < MIN_CONTRAST_DB:
        return whole
    points = round(1 / HOP_SECONDS)  # per second
    floor = local_floor(
        loudness, round(FLOOR_SPAN_SECONDS * points), round(FLOOR_STEP_SECONDS * points)
    )
    contrast = np.maximum(speech - floor, 0.0)
    quiet = loudness < floor + THRESHOLD_SHARE * contrast
    # A loud run that never reaches SPEECH_SHARE of the range is a noise burst: part of a pause.
    reach = floor + SPEECH_SHARE * contrast
    if foreground_db is not None:
        reach = np.maximum(reach, speech - foreground_db)
    speech_like = loudness >= reach
    for a, b in _runs(~quiet):
        if not speech_like[a:b].any():
            quiet[a:b] = True
    runs = _runs(quiet)
    # A run of quiet window centres; the quiet audio reaches half a window beyond its ends, and
    # to the file's edge where the run reaches the first or last point.
    pauses = [
        (
            0 if a == 0 else max(0, a * hop - window // 2),
            len(audio) if b == len(loudness) else min(len(audio), (b - 1) * hop + window // 2),
        )
        for a, b in runs
        if (b - a) * hop + window >= min_pause_seconds * sample_rate
    ]
    if not pauses:
        return whole
    pad = round(PAD_SECONDS * sample_rate)
    stretches, start = [], 0
    for pause_start, pause_end in pauses:
        middle = (pause_start + pause_end) // 2
        if pause_start > 0:  # the speech before this pause (none before a leading pause)
            stretches.append((start, min(pause_start + pad, middle)))
        start = max(pause_end - pad, middle)
    if pauses[-1][1] < len(audio):  # the speech after the last pause
        stretches.append((start, len(audio)))
    return stretches or whole


def quietest_cuts(
    audio: np.ndarray, max_samples: int, sample_rate: int = 16000
) -> list[tuple[int, int]]:
    """Consecutive [start, end) bounds covering `audio`, each at most `max_samples` long.

    Audio no longer than `max_samples` is one segment. Otherwise each cut is the quietest point
    (loudness over CUT_WINDOW_SECONDS) that leaves the segment before it and the rest at least
    half of `max_samples`, so no segment is a sliver the emotion head could not pool over. Of the
    points within QUIET_MARGIN_DB of the quietest, the latest is taken.
    """
    _check_max_samples(max_samples)
    n_samples = len(audio)
    if n_samples <= max_samples:
        return [(0, n_samples)]
    hop = max(1, round(HOP_SECONDS * sample_rate))
    loudness = loudness_db(
        speech_band(audio, sample_rate), hop, round(CUT_WINDOW_SECONDS * sample_rate)
    )
    bounds, start, half = [], 0, max_samples // 2
    while n_samples - start > max_samples:
        low = start + half
        high = min(start + max_samples, n_samples - half)
        first, last = -(-low // hop), high // hop  # grid points inside [low, high]
        if first > last:  # a window narrower than one hop
            cut = (low + high) // 2
        else:
            window = loudness[first : last + 1]
            quiet = np.flatnonzero(window <= window.min() + QUIET_MARGIN_DB)
            cut = (first + int(quiet[-1])) * hop
        bounds.append((start, cut))
        start = cut
    bounds.append((start, n_samples))
    return bounds


def _check_max_samples(max_samples: int) -> None:
    if max_samples < 2:
        raise ValueError(f"max_samples must be >= 2, got {max_samples}")


def segment_bounds(
    audio: np.ndarray,
    max_samples: int,
    sample_rate: int = 16000,
    min_pause_seconds: float | None = DEFAULT_MIN_PAUSE_SECONDS,
    foreground_db: float | None = None,
) -> list[tuple[int, int]]:
    """The segments a recording is predicted in: its stretches of speech (see speech_stretches),
    each cut at its quietest points where longer than `max_samples`. min_pause_seconds None
    keeps the file whole apart from those cuts (they then cover it end to end). A recording
    without sound (peak below SILENCE_DBFS) has no segment; any other has at least one."""
    _check_max_samples(max_samples)
    if not len(audio) or np.max(np.abs(audio)) < 10.0 ** (SILENCE_DBFS / 20.0):
        return []
    stretches = (
        [(0, len(audio))]
        if min_pause_seconds is None
        else speech_stretches(audio, sample_rate, min_pause_seconds, foreground_db)
    )
    return [
        (start + a, start + b)
        for start, end in stretches
        for a, b in quietest_cuts(audio[start:end], max_samples, sample_rate)
    ]
