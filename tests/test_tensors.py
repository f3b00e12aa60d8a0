"""Numpy memory reaches torch's kernels in torch's own, aligned memory (asrser.common.tensors).

Some CPU kernels sum in a different order for data that is not aligned to the vector width, and
numpy's alignment depends on each process's allocation history: the guard is that every tensor
made from numpy data at the pipeline's entry points is 64-byte aligned, whatever numpy gave."""

import numpy as np
import pytest
import torch

import asrser.data.audio
import asrser.training.augment
from asrser.common.tensors import ALIGNMENT, aligned
from asrser.models.demo_encoder import create_demo_encoder
from asrser.models.processing import collate, load_processor
from asrser.training.augment import AugmentConfig, Augmenter


def misaligned_copies(values: np.ndarray) -> list[np.ndarray]:
    """`values` at every float32 offset within one ALIGNMENT: all but one misaligned."""
    copies = []
    for offset in range(ALIGNMENT // values.itemsize):
        buffer = np.zeros(values.size + ALIGNMENT, dtype=values.dtype)
        start = (-buffer.ctypes.data // values.itemsize) % (ALIGNMENT // values.itemsize)
        view = buffer[start + offset : start + offset + values.size]
        view[:] = values
        copies.append(view)
    assert {c.ctypes.data % ALIGNMENT for c in copies} == set(range(0, ALIGNMENT, values.itemsize))
    return copies


def test_aligned_copies_misaligned_memory_and_shares_aligned_tensors():
    values = np.arange(1001, dtype=np.float32)
    for array in misaligned_copies(values):
        tensor = aligned(array)
        assert tensor.data_ptr() % ALIGNMENT == 0 and tensor.is_contiguous()
        assert torch.equal(tensor, torch.from_numpy(values))
    owned = torch.arange(10.0)
    assert aligned(owned) is owned  # nothing copied when nothing needs to be
    transposed = torch.arange(12.0).reshape(3, 4).T
    assert aligned(transposed).is_contiguous() and torch.equal(aligned(transposed), transposed)


def _record_alignment(monkeypatch, module, name: str) -> list[int]:
    seen = []
    original = getattr(module, name)

    def recording(wave, *args, **kwargs):
        seen.append(wave.data_ptr() % ALIGNMENT)
        return original(wave, *args, **kwargs)

    monkeypatch.setattr(module, name, recording)
    return seen


@pytest.mark.parametrize("speed", [95, 100])
def test_augmentation_sees_aligned_memory_and_gives_the_same_result(monkeypatch, speed):
    seen = _record_alignment(monkeypatch, asrser.training.augment, "change_speed")
    wave = np.random.default_rng(0).standard_normal(12_345).astype(np.float32)
    augmenter = Augmenter(AugmentConfig(speeds=(speed,)))
    outputs = [
        augmenter([copy], torch.Generator().manual_seed(1))[0] for copy in misaligned_copies(wave)
    ]
    assert seen and set(seen) == {0}
    assert all(np.array_equal(out, outputs[0]) for out in outputs)


def test_resampling_on_read_sees_aligned_memory(monkeypatch):
    import torchaudio.functional as AF

    seen = _record_alignment(monkeypatch, AF, "resample")
    wave = np.random.default_rng(1).standard_normal(4_410).astype(np.float32)
    outputs = [asrser.data.audio.resample(copy, 44_100) for copy in misaligned_copies(wave)]
    assert set(seen) == {0}
    assert all(np.array_equal(out, outputs[0]) for out in outputs)


def test_collated_features_are_aligned(tmp_path, monkeypatch):
    folder = create_demo_encoder(
        tmp_path / "enc", hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32
    )
    processor = load_processor(str(folder))
    # The extractor's padded batch is a fresh numpy array; make it misaligned on purpose.
    extractor = type(processor.feature_extractor)
    original = extractor.__call__

    def misaligned_output(self, *args, **kwargs):
        features = original(self, *args, **{**kwargs, "return_tensors": "np"})
        for name, value in features.items():
            features[name] = misaligned_copies(value.ravel())[1].reshape(value.shape)
        features.convert_to_tensors("pt")
        return features

    monkeypatch.setattr(extractor, "__call__", misaligned_output)
    rng = np.random.default_rng(0)
    waves = [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in (16_000, 9_100)]
    batch = collate(waves, None, None, ["a", "b"], processor)
    assert {v.data_ptr() % ALIGNMENT for v in batch.inputs.values()} == {0}
