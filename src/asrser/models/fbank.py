"""The log-mel filterbank of SeamlessM4TFeatureExtractor (the demo encoder's front end), vectorised.

transformers computes it with `audio_utils.spectrogram`, which loops over the 100 frames per
second in Python (33 ms per 16 s of audio on an idle core here, 15 ms vectorised; several times
more on a loaded one, where it was a third of a demo training step). `vectorized_fbank`
performs the same operations, in the same order and precision, on all frames at once (the tests
check the output is equal to the extractor's own), and `vectorized_front_end` makes a loaded
extractor use it while a batch is collated. The extractor stays the one AutoProcessor loaded: its
window, mel filters, normalisation, padding and frame stacking are unchanged; other extractors are
left alone.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# The settings SeamlessM4TFeatureExtractor._extract_fbank_features passes to `spectrogram`.
FRAME_LENGTH = 400
HOP_LENGTH = 160
FFT_LENGTH = 512
PREEMPHASIS = 0.97
MEL_FLOOR = 1.192092955078125e-07


def vectorized_fbank(extractor, waveform: np.ndarray) -> np.ndarray:
    """(frames, mel bins) float32 log-mel features, as `extractor._extract_fbank_features`."""
    if waveform.ndim == 2:  # as transformers: the first (left) channel
        waveform = waveform[0]
    # Kaldi scales to 16-bit integer range; transformers promotes to float64 before framing.
    signal = np.squeeze(waveform).astype(np.float32) * (2**15)
    signal = signal.astype(np.float64)
    n_frames = 1 + (signal.size - FRAME_LENGTH) // HOP_LENGTH
    if n_frames < 1:
        return np.zeros((extractor.mel_filters.shape[1], 0), dtype=np.float32).T
    frames = sliding_window_view(signal, FRAME_LENGTH)[::HOP_LENGTH][:n_frames].copy()
    frames -= frames.mean(axis=1, keepdims=True)  # remove_dc_offset
    frames[:, 1:] -= PREEMPHASIS * frames[:, :-1]
    frames[:, 0] *= 1 - PREEMPHASIS
    frames *= extractor.window.astype(np.float64)
    # transformers stores the spectrum as complex64 before taking its power.
    spectrum = np.fft.rfft(frames, n=FFT_LENGTH, axis=1).astype(np.complex64)
    power = np.abs(spectrum, dtype=np.float64) ** 2.0
    # (mel bins, frames), transposed at the end as transformers does: the memory order decides
    # the summation order of the per-bin normalisation that follows, hence its last bits.
    mel = np.maximum(MEL_FLOOR, np.dot(extractor.mel_filters.T, power.T))
    return np.log(mel).astype(np.float32).T


@contextmanager
def vectorized_front_end(extractor) -> Iterator[None]:
    """Within the block, a SeamlessM4TFeatureExtractor computes its filterbank with
    `vectorized_fbank`; any other extractor is left alone. The method is bound on the instance only
    for the duration (save_pretrained would otherwise try to serialise it)."""
    from transformers import SeamlessM4TFeatureExtractor

    if type(extractor) is not SeamlessM4TFeatureExtractor:
        yield
        return
    extractor._extract_fbank_features = types.MethodType(vectorized_fbank, extractor)
    try:
        yield
    finally:
        del extractor._extract_fbank_features
