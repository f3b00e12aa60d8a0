"""Device selection: CPU fallback under `auto`, a clear error when `cuda` is asked for and absent."""

from __future__ import annotations

import pytest
import torch

from asrser.runtime import device
from asrser.runtime.device import DeviceError, resolve_device, set_cpu_threads


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


# ------------------------------------------------------------------------- GPU that cannot work
# No GPU here: torch.cuda is monkeypatched into each situation a GPU node can be in, and the
# checks' operations run on the CPU in place of the GPU (asrser.runtime.device.cuda_device).
TOO_OLD = (
    "The NVIDIA driver on your system is too old (found version 12020). Please update your GPU "
    "driver by downloading and installing a new version from the URL: "
    "http://www.nvidia.com/Download/index.aspx"
)


@pytest.fixture
def gpu_node(monkeypatch, tmp_path):
    """A node with NVIDIA driver 535.104.05 and a torch build for CUDA 13.0."""
    version_file = tmp_path / "version"
    version_file.write_text(
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC "
        "2023\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"
    )
    monkeypatch.setattr(device, "DRIVER_VERSION_FILE", version_file)
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    return version_file


def _raise(message):
    def fail(*args, **kwargs):
        raise RuntimeError(message)

    return fail


def test_driver_version_is_read_from_proc_or_nvidia_smi(gpu_node, monkeypatch, tmp_path):
    assert device.driver_version() == "535.104.05"
    gpu_node.write_text(
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build\n"
    )
    assert device.driver_version() == "570.86.15"
    monkeypatch.setattr(device, "DRIVER_VERSION_FILE", tmp_path / "absent")
    monkeypatch.setattr(device.shutil, "which", lambda name: None)
    assert device.driver_version() is None


def test_a_driver_too_old_for_the_torch_build_is_a_one_line_error(gpu_node, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "init", _raise(TOO_OLD))
    with pytest.raises(DeviceError) as error:
        resolve_device("cuda")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("config key 'device' is 'cuda' but no CUDA GPU is visible")
    assert "too old (found version 12020)" in message  # torch's own reason
    assert "built for CUDA 13.0 (needs NVIDIA driver 580 or newer)" in message
    assert "NVIDIA driver: 535.104.05" in message
    # What to do: the wheels for CUDA 12 drivers, or the CPU on purpose.
    assert "--index-url https://download.pytorch.org/whl/cu126" in message and "cu128" in message
    assert f"pip install torch=={torch.__version__.split('+')[0]}+cu126" in message
    assert "or set config key 'device' to cpu deliberately" in message


def test_a_cpu_only_torch_build_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(device, "DRIVER_VERSION_FILE", tmp_path / "absent")
    monkeypatch.setattr(device.shutil, "which", lambda name: None)
    with pytest.raises(DeviceError, match=r"CPU-only build .*NVIDIA driver: none found"):
        resolve_device("cuda", option="--device")


def test_a_gpu_whose_kernels_fail_is_an_error_not_a_device(gpu_node, monkeypatch):
    """torch sees the GPU, but the first kernel fails (a build without kernels for it)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(
        device,
        "cuda_device",
        _raise("CUDA error: no kernel image is available for execution on the device"),
    )
    with pytest.raises(DeviceError) as error:
        resolve_device("cuda")
    message = str(error.value)
    assert "\n" not in message
    assert (
        "is 'cuda' but the CUDA GPU does not work (RuntimeError: CUDA error: no kernel" in message
    )
    assert "CUDA 13.0" in message and "535.104.05" in message


@pytest.fixture
def stand_in_gpu(monkeypatch):
    """torch.cuda reports a working GPU; the checks' tensors live on the CPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *args: "Stand-in GPU")
    monkeypatch.setattr(device, "cuda_device", lambda: torch.device("cpu"))


def test_a_working_gpu_is_used_under_cuda_and_auto(stand_in_gpu, gpu_node, caplog):
    with caplog.at_level("INFO", logger="asrser.runtime.device"):
        assert resolve_device("cuda") == torch.device("cpu")  # the stand-in's device
        assert resolve_device("auto") == torch.device("cpu")
    assert "device: cuda -> cpu (Stand-in GPU; torch" in caplog.text
    assert "NVIDIA driver: 535.104.05" in caplog.text


def test_auto_warns_when_a_driver_is_installed_but_unusable(gpu_node, monkeypatch, caplog):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "init", _raise(TOO_OLD))
    with caplog.at_level("INFO", logger="asrser.runtime.device"):
        assert resolve_device("auto").type == "cpu"
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "auto -> cpu although NVIDIA driver 535.104.05 is installed" in warnings[0].message
    assert "too old" in warnings[0].message


def test_check_gpu_runs_a_bf16_product_and_a_ctc_loss(stand_in_gpu, gpu_node):
    report = device.check_gpu()
    # bf16 keeps about three significant digits: a real, small error, not zero.
    assert 1e-4 < report.bf16_relative_error < device.BF16_TOLERANCE
    assert report.ctc_loss > 0 and report.ctc_relative_error < device.CTC_TOLERANCE
    line = report.describe()
    assert "\n" not in line and "bf16 matrix product" in line and "CTC loss" in line
    assert "CUDA 13.0" in line and "535.104.05" in line


def test_check_gpu_fails_on_wrong_results_and_on_kernel_errors(stand_in_gpu, gpu_node, monkeypatch):
    def garbage(a, b, device_):
        return torch.zeros(a.shape[0], b.shape[1], dtype=torch.bfloat16) + b.sum() * 0

    monkeypatch.setattr(device, "_bf16_product", garbage)
    with pytest.raises(DeviceError, match=r"computes wrong results \(the bf16 matrix product"):
        device.check_gpu()
    monkeypatch.setattr(device, "_bf16_product", _raise("CUDA error: an illegal memory access"))
    with pytest.raises(DeviceError) as error:
        device.check_gpu()
    message = str(error.value)
    assert "\n" not in message and "illegal memory access" in message
    assert message.startswith("config key 'device' is 'cuda' but the CUDA GPU does not work")
