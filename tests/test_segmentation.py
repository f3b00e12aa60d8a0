"""Recordings are split at their pauses, and long stretches cut at their quietest points."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from asrser.data.segmentation import (
    MIN_CONTRAST_DB,
    PAD_SECONDS,
    local_floor,
    loudness_db,
    quietest_cuts,
    segment_bounds,
    speech_band,
    speech_stretches,
)

RATE = 16000
PAD = int(PAD_SECONDS * RATE)


def _speech_like(sentence_seconds, pause_seconds: float, seed: int = 0, floor: float = 0.001):
    """Sentences of 0.2-s noise 'words' with 60-ms gaps inside, pauses of room tone between.

    Returns the audio and each sentence's [start, end) in samples."""
    rng = np.random.default_rng(seed)
    pieces, sentences, position = [], [], 0
    for index, seconds in enumerate(sentence_seconds):
        if index:
            pieces.append(floor * rng.standard_normal(int(pause_seconds * RATE)))
            position += len(pieces[-1])
        sentence = 0.3 * rng.standard_normal(int(seconds * RATE))
        word_gaps = np.arange(len(sentence)) % int(0.26 * RATE) >= int(0.2 * RATE)
        sentence[word_gaps] *= 0.003
        pieces.append(sentence)
        sentences.append((position, position + len(sentence)))
        position += len(sentence)
    return np.concatenate(pieces).astype(np.float32), sentences


def _check_tiling(bounds, n_samples, max_samples):
    assert bounds[0][0] == 0 and bounds[-1][1] == n_samples
    assert all(end == start for (_, end), (start, _) in pairwise(bounds))
    lengths = [end - start for start, end in bounds]
    assert max(lengths) <= max_samples
    if len(bounds) > 1:  # no sliver the emotion head could not pool over
        assert min(lengths) >= max_samples // 2


# ------------------------------------------------------------------------- stretches of speech
@pytest.mark.parametrize("noise_db", [None, -15.0])  # clean room tone; steady noise 15 dB down
def test_stretches_are_the_sentences_with_a_little_pause_around_them(noise_db):
    audio, sentences = _speech_like([1.3, 0.5, 2.7, 0.9], pause_seconds=0.6)
    if noise_db is not None:  # speech power 0.09 (-10.5 dB); noise relative to it
        noise_rms = np.sqrt(0.09 * 10 ** (noise_db / 10))
        audio = audio + noise_rms * np.random.default_rng(5).standard_normal(len(audio))
    stretches = speech_stretches(audio, RATE)
    assert len(stretches) == len(sentences)  # the 60-ms gaps between words split nothing
    for (start, end), (first, last) in zip(stretches, sentences, strict=True):
        assert first - PAD - 100 <= start <= first  # the onset kept, with some pause before it
        assert last <= end <= last + PAD + 100
    assert stretches[0][0] == 0 and stretches[-1][1] == len(audio)


def test_pauses_are_found_when_the_background_changes_level():
    """A quiet room, then a fan 30 dB louder: the pauses in both parts, against their own floor."""
    sentences = [1.2, 0.8, 1.5, 1.0, 1.3, 0.9, 1.4, 1.1]
    audio, spans = _speech_like(sentences, pause_seconds=1.0)
    half = spans[4][0] - RATE // 2  # the fan starts in the pause before the fifth sentence
    background = np.random.default_rng(3).standard_normal(len(audio))
    background[:half] *= 0.001  # -60 dB
    background[half:] *= 0.03  # -30 dB: 20 dB under the speech (-10.5 dB)
    stretches = speech_stretches(audio + background, RATE)
    assert len(stretches) == len(sentences)
    for (start, end), (first, last) in zip(stretches, spans, strict=True):
        assert start <= first and last <= end


def test_leading_and_trailing_silence_are_left_out():
    audio, sentences = _speech_like([1.0], 0.0)
    audio = np.concatenate([np.zeros(RATE), audio, np.zeros(RATE)])
    [(start, end)] = speech_stretches(audio, RATE)
    assert RATE - PAD - 100 <= start <= RATE
    assert 2 * RATE <= end <= 2 * RATE + PAD + 100


def test_pauses_shorter_than_the_minimum_do_not_split():
    audio, _ = _speech_like([1.0, 1.0], pause_seconds=0.25)
    assert speech_stretches(audio, RATE, min_pause_seconds=0.3) == [(0, len(audio))]
    assert len(speech_stretches(audio, RATE, min_pause_seconds=0.2)) == 2


@pytest.mark.parametrize(
    "audio",
    [
        np.zeros(3 * RATE),  # all pause
        0.1 * np.random.default_rng(0).standard_normal(3 * RATE),  # steady noise, no contrast
        np.sin(np.arange(3 * RATE) * 0.05),  # a steady tone
    ],
    ids=["silence", "noise", "tone"],
)
def test_a_file_without_pauses_to_find_is_one_stretch(audio):
    assert speech_stretches(audio, RATE) == [(0, len(audio))]


@pytest.mark.parametrize("seed", range(6))
def test_stretches_are_ordered_apart_and_not_too_short(seed):
    """Random bursts and gaps: stretches never overlap and are >= PAD_SECONDS long."""
    rng = np.random.default_rng(seed)
    pieces = []
    for _ in range(30):
        seconds = rng.choice([0.01, 0.05, 0.2, 0.5, 1.0])
        level = rng.choice([0.0, 0.001, 0.3])
        pieces.append(level * rng.standard_normal(int(seconds * RATE)))
    audio = np.concatenate(pieces)
    stretches = speech_stretches(audio, RATE, min_pause_seconds=2 * PAD_SECONDS)
    assert all(0 <= start < end <= len(audio) for start, end in stretches)
    assert all(end <= start for (_, end), (start, _) in pairwise(stretches))
    assert min(end - start for start, end in stretches) >= PAD


def _voiced_sentences(sentence_seconds, pause_seconds: float, pitch_hz: float = 120.0):
    """Sentences of 0.2-s 'vowels' (a pitch and its harmonics up to 1 kHz, 60-ms gaps between
    them), silence between sentences; each sentence's [start, end) in samples."""
    t = np.arange(int(max(sentence_seconds) * RATE)) / RATE
    vowel = sum(np.sin(2 * np.pi * k * pitch_hz * t) / k for k in range(1, int(1000 / pitch_hz)))
    vowel *= np.arange(len(t)) % int(0.26 * RATE) < int(0.2 * RATE)
    pieces, sentences, position = [], [], 0
    for index, seconds in enumerate(sentence_seconds):
        if index:
            pieces.append(np.zeros(int(pause_seconds * RATE)))
            position += len(pieces[-1])
        pieces.append(0.1 * vowel[: int(seconds * RATE)])
        sentences.append((position, position + len(pieces[-1])))
        position += len(pieces[-1])
    return np.concatenate(pieces).astype(np.float32), sentences


def test_speech_band_keeps_voiced_speech_and_drops_hiss_and_hum():
    t = np.arange(2 * RATE) / RATE
    for hz, least_db, most_db in ((500, -1, 1), (50, -99, -20), (6000, -99, -20)):
        tone = np.sin(2 * np.pi * hz * t)
        settled = slice(RATE // 2, None)  # after the filter's onset
        gain = loudness_db(speech_band(tone, RATE)[settled], 1, len(t) // 2)[len(t) // 4]
        assert least_db <= gain - 10 * np.log10(0.5) <= most_db, hz


def test_speech_band_is_the_same_filtered_in_chunks(monkeypatch):
    audio = np.random.default_rng(1).standard_normal(5 * RATE).astype(np.float32)
    whole = speech_band(audio, RATE)
    monkeypatch.setattr("asrser.data.segmentation.FILTER_CHUNK", 12345)
    assert np.allclose(speech_band(audio, RATE), whole, atol=1e-5)
    assert speech_band(audio, 8000).shape == audio.shape  # the band ends below 4 kHz there


def test_pauses_are_found_under_hiss_louder_than_the_speech():
    """Hiss above 3 kHz at 5 dB more power than the voiced speech: in the full band the file
    has no contrast left (one stretch); in the speech band its sentences stand out."""
    audio, sentences = _voiced_sentences([1.2, 0.7, 1.6, 1.0], pause_seconds=0.7)
    white = np.random.default_rng(2).standard_normal(len(audio))
    hiss = np.diff(np.diff(white, prepend=0.0), prepend=0.0)  # tilted towards high frequencies
    speech_power = np.mean(np.square(audio[audio != 0]))
    hiss *= np.sqrt(speech_power * 10**0.5 / np.mean(np.square(hiss)))
    noisy = (audio + hiss).astype(np.float32)
    full_band = loudness_db(noisy, 160, 800)
    assert np.subtract(*np.percentile(full_band, [98, 10])) < MIN_CONTRAST_DB
    stretches = speech_stretches(noisy, RATE)
    assert len(stretches) == len(sentences)
    for (start, end), (first, last) in zip(stretches, sentences, strict=True):
        assert first - PAD - 400 <= start <= first and last <= end <= last + PAD + 400


def test_a_background_talker_is_left_out_when_asked():
    """Sentences with a talker 15 dB down in the pauses between them: found as speech of their
    own by default; left out with foreground_db 10, the sentences kept whole."""
    audio, sentences = _speech_like([1.2, 0.9, 1.5], pause_seconds=2.6, floor=0.0)
    talker, _ = _speech_like([1.0], pause_seconds=0.0, seed=9, floor=0.0)
    talker *= 10 ** (-15 / 20)
    audio = audio.copy()
    for (_, end), (start, _) in pairwise(sentences):
        middle = (end + start) // 2 - len(talker) // 2  # 0.8 s of silence either side
        audio[middle : middle + len(talker)] += talker
    audio += 0.001 * np.random.default_rng(4).standard_normal(len(audio)).astype(np.float32)
    assert len(speech_stretches(audio, RATE)) == 5
    stretches = speech_stretches(audio, RATE, foreground_db=10.0)
    assert len(stretches) == len(sentences)
    for (start, end), (first, last) in zip(stretches, sentences, strict=True):
        # 400 samples: the band filter rings on for ~15 ms after a sentence cut off mid-word.
        assert first - PAD - 400 <= start <= first and last <= end <= last + PAD + 400
    assert segment_bounds(audio, 20 * RATE, RATE, foreground_db=10.0) == stretches


# ------------------------------------------------------------------------- cuts in long audio
def test_audio_within_the_limit_is_one_segment():
    assert quietest_cuts(np.zeros(RATE), RATE) == [(0, RATE)]
    assert quietest_cuts(np.zeros(5), RATE) == [(0, 5)]


def test_cuts_fall_in_the_pauses_between_sentences_not_inside_words():
    audio, sentences = _speech_like([1.3, 1.1, 1.7, 0.9, 1.5, 1.2], pause_seconds=0.4)
    bounds = quietest_cuts(audio, 3 * RATE, RATE)
    _check_tiling(bounds, len(audio), 3 * RATE)
    cuts = [end for _, end in bounds[:-1]]
    assert len(cuts) >= 2
    # Within a pause and at least 0.1 s from speech (a 0.2-s window of pause around the cut).
    pauses = [(end, start) for (_, end), (start, _) in pairwise(sentences)]
    for cut in cuts:
        assert any(end + 0.1 * RATE <= cut <= start - 0.1 * RATE for end, start in pauses), cut


def test_equal_silence_is_cut_as_late_as_allowed():
    bounds = quietest_cuts(np.zeros(int(2.5 * RATE)), RATE, RATE)
    assert bounds == [(0, RATE), (RATE, 2 * RATE), (2 * RATE, int(2.5 * RATE))]


@pytest.mark.parametrize("kind", ["noise", "silence", "tone", "speech"])
@pytest.mark.parametrize("seconds,max_seconds", [(2.05, 1.0), (7.3, 2.0), (30.0, 0.2), (1.3, 0.9)])
def test_cuts_cover_the_audio_and_respect_the_limits(kind, seconds, max_seconds):
    n_samples, max_samples = int(seconds * RATE), int(max_seconds * RATE)
    rng = np.random.default_rng(1)
    audio = {
        "noise": lambda: rng.standard_normal(n_samples),
        "silence": lambda: np.zeros(n_samples),
        "tone": lambda: np.sin(np.arange(n_samples) * 0.05),
        "speech": lambda: _speech_like([seconds], 0.0)[0][:n_samples],
    }[kind]()
    _check_tiling(quietest_cuts(audio, max_samples, RATE), n_samples, max_samples)


def test_local_floor_follows_a_step_in_the_background():
    loudness = np.concatenate([np.full(1000, -60.0), np.full(1000, -30.0)])
    floor = local_floor(loudness, span=300, step=50)
    assert np.allclose(floor[:600], -60.0) and np.allclose(floor[1400:], -30.0)
    assert np.all(np.diff(floor) >= 0)  # the step, spread over the span around it
    short = np.arange(10.0)  # shorter than a window: the file's own percentile
    assert np.allclose(local_floor(short, span=300, step=50), np.percentile(short, 10))


def test_loudness_is_the_windowed_mean_power_in_db():
    audio = np.concatenate([np.zeros(400), np.full(400, 0.1)])
    loudness = loudness_db(audio, hop=100, window=200)
    assert len(loudness) == 9  # points 0, 100, ..., 800
    assert loudness[2] == pytest.approx(-100.0)  # samples 100-299: silence
    assert loudness[4] == pytest.approx(10 * np.log10(0.005), abs=1e-6)  # half silence
    assert loudness[6] == pytest.approx(-20.0, abs=1e-6)  # all at 0.1


# ------------------------------------------------------------------------- both together
def test_long_stretches_are_cut_and_short_ones_kept_whole():
    audio, sentences = _speech_like([4.5, 1.0], pause_seconds=0.5)
    bounds = segment_bounds(audio, 2 * RATE, RATE)
    long_part = [b for b in bounds if b[1] <= sentences[0][1] + PAD + 100]
    assert len(long_part) == 3  # 4.6 s in three cuts of 1-2 s
    assert all(RATE <= end - start <= 2 * RATE for start, end in long_part)
    assert bounds[-1] == speech_stretches(audio, RATE)[-1]


def test_whole_files_are_only_cut_for_length():
    audio, _ = _speech_like([1.3, 1.1, 1.7], pause_seconds=0.4)
    assert segment_bounds(audio, 3 * RATE, RATE, None) == quietest_cuts(audio, 3 * RATE, RATE)
    assert segment_bounds(audio, 10 * RATE, RATE, None) == [(0, len(audio))]


def test_a_limit_under_two_samples_is_refused():
    for function in (quietest_cuts, segment_bounds):
        with pytest.raises(ValueError, match="max_samples must be >= 2, got 1"):
            function(np.zeros(10), 1)
