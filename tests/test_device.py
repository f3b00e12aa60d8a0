"""Device selection: CPU fallback under `auto`, a clear error when `cuda` is asked for and absent."""

from __future__ import annotations

import pytest
import torch

from asrser.device import DeviceError, resolve_device, set_cpu_threads


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


def test_cpu_threads_leave_numpy_blas_single_threaded():
    """torch gets the job's threads; numpy's BLAS one (it would spin against torch's threads)."""
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    try:
        set_cpu_threads(2)
        assert torch.get_num_threads() == 2
        blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas and all(pool["num_threads"] == 1 for pool in blas)
    finally:
        torch.set_num_threads(before)
