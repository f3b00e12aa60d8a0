"""Device selection: CPU fallback under `auto`, a clear error when `cuda` is asked for and absent."""

from __future__ import annotations

import pytest
import torch

from asrser.device import DeviceError, resolve_device


def test_auto_falls_back_to_cpu_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto").type == "cpu"
    assert resolve_device("cpu").type == "cpu"


def test_cuda_without_a_gpu_names_the_key(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="config key 'device' is 'cuda' but no CUDA GPU"):
        resolve_device("cuda")


def test_unknown_setting_is_rejected():
    with pytest.raises(DeviceError, match="expected auto, cpu or cuda"):
        resolve_device("tpu")
