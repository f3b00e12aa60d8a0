"""The vectorised log-mel front end equals SeamlessM4TFeatureExtractor's own computation."""

import numpy as np
import pytest
from transformers import SeamlessM4TFeatureExtractor, Wav2Vec2FeatureExtractor

from asrser.models.demo_encoder import create_demo_encoder
from asrser.models.fbank import speed_up_feature_extractor, vectorized_fbank
from asrser.models.processing import load_processor


@pytest.mark.parametrize("samples", [399, 400, 401, 560, 16_000, 33_333])
def test_vectorized_fbank_equals_the_extractor(samples):
    extractor = SeamlessM4TFeatureExtractor(sampling_rate=16_000)
    rng = np.random.default_rng(samples)
    waveform = (0.1 * rng.standard_normal(samples)).astype(np.float32)
    waveform[: samples // 3] = 0.0  # silence: the mel floor and the log of it
    reference = extractor._extract_fbank_features(waveform)
    fast = vectorized_fbank(extractor, waveform)
    assert fast.dtype == reference.dtype == np.float32
    assert fast.shape == reference.shape
    np.testing.assert_array_equal(fast, reference)


def test_loaded_processor_gives_the_same_batch_features(tmp_path):
    folder = create_demo_encoder(
        tmp_path / "enc", hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32
    )
    processor = load_processor(str(folder))
    reference = SeamlessM4TFeatureExtractor.from_pretrained(str(folder))
    assert processor.feature_extractor._extract_fbank_features.__func__ is vectorized_fbank
    rng = np.random.default_rng(0)
    waves = [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in (16_000, 9_100, 23_456)]
    kwargs = dict(sampling_rate=16_000, padding=True, return_attention_mask=True)
    fast = processor.feature_extractor(waves, **kwargs)
    slow = reference(waves, **kwargs)
    np.testing.assert_array_equal(fast["input_features"], slow["input_features"])
    np.testing.assert_array_equal(fast["attention_mask"], slow["attention_mask"])


def test_other_extractors_are_left_alone():
    extractor = Wav2Vec2FeatureExtractor()
    before = dict(vars(extractor))
    speed_up_feature_extractor(extractor)
    assert vars(extractor) == before
