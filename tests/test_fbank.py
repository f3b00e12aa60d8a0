"""The vectorised log-mel front end equals SeamlessM4TFeatureExtractor's own computation."""

import numpy as np
import pytest
from transformers import AutoConfig, SeamlessM4TFeatureExtractor, Wav2Vec2FeatureExtractor

from asrser.models.demo_encoder import create_demo_encoder
from asrser.models.fbank import vectorized_fbank, vectorized_front_end
from asrser.models.processing import collate, load_processor


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


def test_collated_features_equal_the_extractors(tmp_path):
    folder = create_demo_encoder(
        tmp_path / "enc", hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32
    )
    processor = load_processor(str(folder))
    reference = SeamlessM4TFeatureExtractor.from_pretrained(str(folder))
    rng = np.random.default_rng(0)
    waves = [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in (16_000, 9_100, 23_456)]
    batch = collate(waves, None, None, ["a", "b", "c"], processor)
    slow = reference(
        waves,
        sampling_rate=16_000,
        padding=True,
        pad_to_multiple_of=reference.stride,
        return_attention_mask=True,
    )
    np.testing.assert_array_equal(batch.inputs["input_features"].numpy(), slow["input_features"])
    np.testing.assert_array_equal(batch.inputs["attention_mask"].numpy(), slow["attention_mask"])
    # The extractor is unchanged afterwards: it still saves (and reloads) as before.
    assert "_extract_fbank_features" not in vars(processor.feature_extractor)
    processor.save_pretrained(tmp_path / "saved")
    assert load_processor(str(tmp_path / "saved")).feature_extractor.to_dict() == (
        processor.feature_extractor.to_dict()
    )


def test_other_extractors_are_left_alone():
    extractor = Wav2Vec2FeatureExtractor()
    before = dict(vars(extractor))
    with vectorized_front_end(extractor):
        assert vars(extractor) == before


@pytest.mark.parametrize("frame_stack", [2, 3])
def test_frame_stack_sets_the_extractor_and_the_projection(tmp_path, frame_stack):
    """pretrain.encoder.frame_stack: frames stacked by the saved extractor, and the width the
    encoder's feature projection expects; a collated batch fits the model."""
    folder = create_demo_encoder(
        tmp_path / "enc", hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
        frame_stack=frame_stack,
    )  # fmt: skip
    processor = load_processor(str(folder))
    assert processor.feature_extractor.stride == frame_stack
    config = AutoConfig.from_pretrained(str(folder))
    assert config.feature_projection_input_dim == 80 * frame_stack
    batch = collate([np.zeros(16_000, dtype=np.float32)], None, None, ["a"], processor)
    frames_10ms = 1 + (16_000 - 400) // 160
    assert batch.inputs["input_features"].shape == (
        1,
        -(-frames_10ms // frame_stack),
        80 * frame_stack,
    )
