"""Input and output helpers: JSON strict, audio of any sample rate read in bounded memory."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf

from asrser.common.io import write_json


def _refuse(constant: str):
    raise ValueError(f"non-standard JSON constant {constant}")


def test_json_is_strict_with_undefined_figures_as_null(tmp_path):
    """A WER over no reference words is NaN in Python; the file says null, which any JSON
    parser reads (NaN is a Python extension that jq and JavaScript refuse)."""
    path = tmp_path / "metrics.json"
    write_json(path, {"wer": math.nan, "range": (np.float64("inf"), 0.5), "nested": {"n": 3}})
    loaded = json.loads(path.read_text(), parse_constant=_refuse)
    assert loaded == {"wer": None, "range": [None, 0.5], "nested": {"n": 3}}
    with pytest.raises(ValueError, match="non-standard"):
        json.loads('{"wer": NaN}', parse_constant=_refuse)
    assert not list(tmp_path.glob(".*"))  # no temporary file left beside it


@pytest.mark.parametrize(("rate", "read_as"), [(44100, 44100), (44101, 44100), (22254, 22250)])
def test_any_sample_rate_resamples_with_a_bounded_kernel(tmp_path, rate, read_as):
    """A rate sharing few factors with 16 kHz (44101 Hz: a 44101 x 16000-tap kernel, 12 GB)
    is read as the nearest rate with a small ratio, a few hundredths of a percent away."""
    from asrser.data.audio import MAX_RATIO_TERM, kernel_friendly_rate, read_audio

    assert kernel_friendly_rate(rate, 16000) == read_as
    for common in (8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000):
        assert kernel_friendly_rate(common, 16000) == common
    seconds = 2.0
    tone = np.sin(2 * np.pi * 440 * np.arange(int(rate * seconds)) / rate).astype(np.float32)
    sf.write(tmp_path / "tone.wav", tone, rate)
    audio = read_audio(tmp_path / "tone.wav")
    assert abs(len(audio) - seconds * 16000) <= seconds * 16000 / MAX_RATIO_TERM
    spectrum = np.abs(np.fft.rfft(audio))
    assert np.fft.rfftfreq(len(audio), 1 / 16000)[spectrum.argmax()] == pytest.approx(440, abs=1)
