"""Device selection from the config key `device` (auto, cpu, cuda)."""

from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)


class DeviceError(RuntimeError):
    """The configured device is not available on this machine."""


def resolve_device(setting: str = "auto", option: str = "config key 'device'") -> torch.device:
    """auto: CUDA when visible, else the CPU (logged); cuda: fail early when no GPU is visible.
    `option` names where the setting came from in errors (asrser-predict: --device)."""
    if setting == "cpu":
        return torch.device("cpu")
    if setting == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(
                f"{option} is 'cuda' but no CUDA GPU is visible on this machine (check "
                "CUDA_VISIBLE_DEVICES and the driver, or ask for auto to fall back to the CPU)"
            )
        return torch.device("cuda")
    if setting != "auto":
        raise DeviceError(f"{option}: expected auto, cpu or cuda, got {setting!r}")
    if torch.cuda.is_available():
        return torch.device("cuda")
    log.info("device: auto -> cpu (no CUDA GPU visible)")
    return torch.device("cpu")


def set_cpu_threads(threads: int) -> None:
    """Torch computes with `threads` threads; numpy's BLAS with one.

    The log-mel front end does a small float64 matrix product per utterance. A multi-threaded
    OpenBLAS spins its threads against torch's OpenMP threads on the same cores: measured here,
    collating a batch took 60 ms instead of 14 ms beside a 2-thread torch step, which made the
    first (uncached) pretraining epoch almost twice as slow as the second.
    """
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(limits=1, user_api="blas")


def autocast(device: torch.device):
    """bf16 autocast on CUDA, plain fp32 elsewhere."""
    return torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"
    )
