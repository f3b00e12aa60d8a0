"""Training-time augmentation: the time-domain SpecAugment of SpeechBrain's recipes.

The paper's recipes augment the waveform with SpeechBrain's TimeDomainSpecAugment: speed
perturbation (95/100/105 %), dropping frequency bands and dropping chunks of samples. This module
does the same with torch/torchaudio functional ops, on each batch before padding:

  speed       resample by a factor chosen from `speeds` (percent; 95 = slower, so longer audio),
              one factor per batch as in SpeechBrain (the batch's utterances keep their order of
              length, so padding stays small)
  drop_freq   zero `drop_freq_count` random bands of `drop_freq_width` (fraction of Nyquist) in the
              spectrum of the utterance (an FFT-domain band-stop filter)
  drop_chunk  zero `drop_chunk_count` random chunks of `drop_chunk_length` samples

Defaults are TimeDomainSpecAugment's (every augmentation on with probability 1; 0-3 bands of 5 % of
Nyquist; 0-5 chunks of 1000-2000 samples). Randomness comes only from the torch.Generator passed
in, so an augmented batch is a function of its seed (training derives one per step).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torchaudio.functional as AF

from asrser.common.tensors import aligned
from asrser.training.settings import AugmentConfig

__all__ = ["AugmentConfig", "Augmenter"]


def _uniform_int(low: int, high: int, generator: torch.Generator) -> int:
    return int(torch.randint(low, high + 1, (1,), generator=generator))


def _chance(prob: float, generator: torch.Generator) -> bool:
    return prob > 0 and float(torch.rand((), generator=generator)) < prob


def change_speed(wave: torch.Tensor, speed_percent: int) -> torch.Tensor:
    """Play `wave` at speed_percent % of its speed (pitch moves too, as in SpeechBrain)."""
    if speed_percent == 100:
        return wave
    # Reading the signal as if sampled at speed% of the rate and resampling back to the rate.
    return AF.resample(wave, orig_freq=int(speed_percent), new_freq=100)


def drop_frequency_bands(
    wave: torch.Tensor, centres: Sequence[float], width: float
) -> torch.Tensor:
    """Zero the spectrum in bands [c - width/2, c + width/2] (fractions of Nyquist)."""
    if not len(centres) or width <= 0:
        return wave
    spectrum = torch.fft.rfft(wave)
    bins = spectrum.shape[-1]
    position = torch.linspace(0.0, 1.0, bins)
    keep = torch.ones(bins, dtype=torch.bool)
    for centre in centres:
        keep &= (position - centre).abs() > width / 2
    return torch.fft.irfft(spectrum * keep, n=wave.shape[-1])


def drop_chunks(wave: torch.Tensor, chunks: Sequence[tuple[int, int]]) -> torch.Tensor:
    """Zero the (start, length) chunks of `wave`."""
    if not chunks:
        return wave
    wave = wave.clone()
    for start, length in chunks:
        wave[start : start + length] = 0.0
    return wave


class Augmenter:
    """Applies AugmentConfig to a batch of 1-D float32 waveforms."""

    def __init__(self, config: AugmentConfig):
        config.check()
        self.config = config

    def batch_speed(self, generator: torch.Generator) -> int:
        """One speed for the whole batch (as SpeechBrain's SpeedPerturb): utterances sorted by
        length stay so, and the padding stays small."""
        config = self.config
        if not _chance(config.speed_prob, generator):
            return 100
        return int(config.speeds[_uniform_int(0, len(config.speeds) - 1, generator)])

    def augment_one(
        self, wave: np.ndarray, generator: torch.Generator, speed: int = 100
    ) -> np.ndarray:
        config = self.config
        x = change_speed(aligned(np.asarray(wave, dtype=np.float32)), speed)
        if _chance(config.drop_freq_prob, generator):
            count = _uniform_int(*config.drop_freq_count, generator)
            low, high = config.drop_freq_range
            centres = (low + (high - low) * torch.rand(count, generator=generator)).tolist()
            x = drop_frequency_bands(x, centres, config.drop_freq_width)
        if _chance(config.drop_chunk_prob, generator):
            count = _uniform_int(*config.drop_chunk_count, generator)
            chunks = []
            for _ in range(count):
                length = min(_uniform_int(*config.drop_chunk_length, generator), len(x))
                start = _uniform_int(0, len(x) - length, generator)
                chunks.append((start, length))
            x = drop_chunks(x, chunks)
        return x.numpy().astype(np.float32, copy=False)

    def __call__(
        self, waveforms: Sequence[np.ndarray], generator: torch.Generator
    ) -> list[np.ndarray]:
        """A batch: one speed for all, frequency bands and chunks drawn per utterance."""
        if not self.config.enabled:
            return list(waveforms)
        speed = self.batch_speed(generator)
        return [self.augment_one(wave, generator, speed) for wave in waveforms]
