"""Device selection from the config key `device` (auto, cpu, cuda), and the GPU check.

A job asked for the GPU (`device: cuda`, config/paper.yaml) that cannot use one stops before
loading anything, with one line that names the CUDA version torch was built for, the NVIDIA
driver found, and what to do: a paper-size training falls back to nothing, never to hours on the
CPU. "Can use" means a tiny matrix product ran on the device, not only that torch sees one: a
driver too old for the torch build, or a torch build without kernels for the GPU, passes
`torch.cuda.is_available()` in some setups and fails at the first kernel.

`check_gpu` goes one step further for the preflight: a bf16 matrix product under autocast and a
CTC loss with its backward pass, each checked against a float64 CPU reference.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional

log = logging.getLogger(__name__)

DRIVER_VERSION_FILE = Path("/proc/driver/nvidia/version")
# The oldest driver branch of each CUDA major version (NVIDIA's minor version compatibility
# table): a torch build for CUDA 12.x runs on driver 525 or newer, one for 13.x needs 580.
MINIMUM_DRIVER = {"11": 450, "12": 525, "13": 580}
# torch's own wheel index for CUDA 12 drivers (torch 2.11 publishes cu126, cu128 and cu130
# wheels there; the PyPI wheel is the CUDA 13.0 one).
CUDA12_WHEELS = "https://download.pytorch.org/whl/cu126"


class DeviceError(RuntimeError):
    """The configured device is not available on this machine."""


# ------------------------------------------------------------------------------------ versions
def driver_version() -> str | None:
    """The NVIDIA kernel driver's version (e.g. "550.54.15"), from /proc or nvidia-smi; None
    when neither answers (no driver, or not Linux)."""
    try:
        text = DRIVER_VERSION_FILE.read_text(errors="replace")
    except OSError:
        text = ""
    # "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  ..." (also "Open Kernel
    # Module for x86_64  570.86.15").
    match = re.search(r"Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)", text)
    if match:
        return match.group(1)
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else None


def _torch_pins(build: str = "cu126") -> str:
    """`torch==X+cu126 torchaudio==Y+cu126` for this installation's versions. The local tag
    matters: an installed PyPI build satisfies a plain torch==X, and pip would keep it."""
    pins = [f"torch=={torch.__version__.split('+')[0]}+{build}"]
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        version = importlib.metadata.version("torchaudio").split("+")[0]
        pins.append(f"torchaudio=={version}+{build}")
    return " ".join(pins)


def describe_cuda_setup() -> str:
    """torch's build, the CUDA version it was built for (torch.version.cuda) and the driver."""
    cuda = torch.version.cuda
    driver = driver_version()
    if cuda is None:
        build = f"torch {torch.__version__} is a CPU-only build (torch.version.cuda is None)"
    else:
        needs = MINIMUM_DRIVER.get(cuda.split(".")[0])
        build = f"torch {torch.__version__} is built for CUDA {cuda}" + (
            f" (needs NVIDIA driver {needs} or newer)" if needs else ""
        )
    return f"{build}; NVIDIA driver: {driver or 'none found'}"


def _remedy(option: str) -> str:
    return (
        "on a GPU node, install the torch build that matches its driver (a CUDA 12 driver, 525 "
        f"to 579, takes torch's cu126 or cu128 wheels: pip install {_torch_pins()} "
        f"--index-url {CUDA12_WHEELS}); or set {option} to cpu deliberately (see "
        "docs/cluster-and-gpu.md)"
    )


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


# ------------------------------------------------------------------------------------ probing
def cuda_device() -> torch.device:
    """The GPU the checks run on (the current CUDA device; tests point it at the CPU)."""
    return torch.device("cuda")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def cuda_problem() -> tuple[str, str] | None:
    """None when a tiny matrix product runs on the GPU; else (what, why): what failed ("no CUDA
    GPU is visible", "the CUDA GPU does not work") and torch's reason, on one line."""
    if torch.version.cuda is None:
        return "no CUDA GPU is visible", "torch has no CUDA support"
    if not torch.cuda.is_available():
        # is_available() only counts devices; initialising gives the reason (no driver, a
        # driver too old for this build, CUDA_VISIBLE_DEVICES empty).
        try:
            torch.cuda.init()
        except Exception as error:
            return "no CUDA GPU is visible", _one_line(error)
        return "no CUDA GPU is visible", "torch.cuda.is_available() is False"
    try:
        device = cuda_device()
        x = torch.ones(8, 8, device=device)
        value = float((x @ x).sum())
        _sync(device)
    except Exception as error:  # e.g. "no kernel image is available for execution"
        return "the CUDA GPU does not work", _one_line(error)
    if value != 512.0:
        return "the CUDA GPU does not work", f"a tiny matrix product gave {value}, not 512"
    return None


def gpu_error(what: str, why: str, option: str = "config key 'device'") -> DeviceError:
    """The one-line error of a job asked to use a GPU it cannot use."""
    return DeviceError(
        f"{option} is 'cuda' but {what} ({why}); {describe_cuda_setup()}. To fix: "
        + _remedy(option)
    )


# ---------------------------------------------------------------------------- device setting
def resolve_device(setting: str = "auto", option: str = "config key 'device'") -> torch.device:
    """cuda: the GPU, after a tiny operation ran on it, else a DeviceError within seconds; auto:
    the GPU when one works, else the CPU (logged, a warning when a driver is installed but
    unusable); cpu: the CPU. `option` names where the setting came from in errors
    (asrser-predict: --device)."""
    if setting == "cpu":
        return torch.device("cpu")
    if setting not in ("auto", "cuda"):
        raise DeviceError(f"{option}: expected auto, cpu or cuda, got {setting!r}")
    started = time.perf_counter()
    problem = cuda_problem()
    if problem is None:
        device = cuda_device()
        log.info(
            "device: %s -> %s (%s; %s; checked in %.1f s)",
            setting,
            device,
            torch.cuda.get_device_name(device),
            describe_cuda_setup(),
            time.perf_counter() - started,
        )
        return device
    if setting == "cuda":
        raise gpu_error(*problem, option=option)
    driver = driver_version()
    if driver is not None:
        # A GPU node whose torch cannot use its GPU: say so loudly, this is rarely intended.
        log.warning(
            "device: auto -> cpu although NVIDIA driver %s is installed: %s (%s); %s. "
            "Ask for cuda to make this an error",
            driver,
            problem[0],
            problem[1],
            describe_cuda_setup(),
        )
    else:
        log.info("device: auto -> cpu (no CUDA GPU visible)")
    return torch.device("cpu")


# --------------------------------------------------------------------------------- GPU check
@dataclass(frozen=True)
class GpuReport:
    """What check_gpu found."""

    device: str
    name: str
    capability: str
    memory_free_gib: float
    memory_total_gib: float
    setup: str  # describe_cuda_setup()
    bf16_relative_error: float  # of the bf16 autocast product against float64
    ctc_loss: float
    ctc_relative_error: float  # of the device's CTC loss against float64 on the CPU
    seconds: float

    def describe(self) -> str:
        return (
            f"GPU {self.name} ({self.device}, compute capability {self.capability}, "
            f"{self.memory_free_gib:.1f} of {self.memory_total_gib:.1f} GiB free): bf16 matrix "
            f"product relative error {self.bf16_relative_error:.1e}, CTC loss {self.ctc_loss:.3f} "
            f"(relative error {self.ctc_relative_error:.1e}) with finite gradients, "
            f"{self.seconds:.1f} s; {self.setup}"
        )


# A bf16 product of unit-variance 128-term sums keeps about 3 significant digits (8-bit
# mantissa inputs, float32 accumulation): measured ~3e-3 relative error; 3e-2 means garbage.
BF16_TOLERANCE = 3e-2
CTC_TOLERANCE = 1e-3  # float32 on the device against float64 on the CPU


def _bf16_product(a: torch.Tensor, b: torch.Tensor, device: torch.device) -> torch.Tensor:
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
        product = a @ b
    if product.dtype != torch.bfloat16:
        raise RuntimeError(f"autocast gave a {product.dtype} product, not bfloat16")
    return product


def _ctc(logits: torch.Tensor, targets: torch.Tensor, frames: int) -> torch.Tensor:
    """Mean CTC loss of (T, N, C) logits against (N, S) targets (blank 0), as the models use it."""
    n, s = targets.shape
    log_probs = logits.log_softmax(dim=-1)
    return functional.ctc_loss(
        log_probs,
        targets,
        torch.full((n,), frames, dtype=torch.long),
        torch.full((n,), s, dtype=torch.long),
        blank=0,
        zero_infinity=False,
    )


def _exercise(device: torch.device) -> dict:
    """The bf16 product and the CTC loss (forward and backward) on `device`, with references."""
    generator = torch.Generator().manual_seed(0)
    frames, batch, vocabulary, width, target_length = 64, 4, 32, 128, 12
    a = torch.randn(frames * batch, width, generator=generator)
    b = torch.randn(width, vocabulary, generator=generator)
    targets = torch.randint(1, vocabulary, (batch, target_length), generator=generator)

    weights = b.to(device, copy=True).requires_grad_()
    product = _bf16_product(a.to(device), weights, device)
    exact = a.double() @ b.double()
    bf16_error = float((product.detach().double().cpu() - exact).norm() / exact.norm())

    # The CTC loss of the product as logits: frames x batch x vocabulary.
    logits = product.float().reshape(frames, batch, vocabulary) / width**0.5
    loss = _ctc(logits, targets.to(device), frames)
    loss.backward()
    _sync(device)
    gradient_finite = bool(torch.isfinite(weights.grad).all())
    reference = _ctc(logits.detach().double().cpu(), targets, frames)
    loss_value = float(loss.detach())
    ctc_error = abs(loss_value - float(reference)) / abs(float(reference))
    return {
        "bf16_relative_error": bf16_error,
        "ctc_loss": loss_value,
        "ctc_relative_error": ctc_error,
        "gradient_finite": gradient_finite,
    }


def check_gpu(option: str = "config key 'device'") -> GpuReport:
    """Check that the GPU works for training: visible, a bf16 matrix product under autocast
    close to float64, a CTC loss (forward and backward) close to the CPU's, finite gradients.
    Returns a GpuReport (`.describe()` is one line); raises DeviceError, one line naming the
    torch CUDA version, the driver and what to do, on any failure. `option`: the setting that
    asked for the GPU, named in the error."""
    started = time.perf_counter()
    problem = cuda_problem()
    if problem is not None:
        raise gpu_error(*problem, option=option)
    device = cuda_device()
    try:
        found = _exercise(device)
    except Exception as error:
        raise gpu_error("the CUDA GPU does not work", _one_line(error), option) from error
    failures = []
    if not found["bf16_relative_error"] <= BF16_TOLERANCE:
        failures.append(
            f"the bf16 matrix product is off by {found['bf16_relative_error']:.2g} (relative; "
            f"expected <= {BF16_TOLERANCE})"
        )
    if not found["ctc_relative_error"] <= CTC_TOLERANCE or not found["gradient_finite"]:
        failures.append(
            f"the CTC loss is {found['ctc_loss']:.4g}, off by {found['ctc_relative_error']:.2g} "
            f"from the CPU's (expected <= {CTC_TOLERANCE}), gradients "
            + ("finite" if found["gradient_finite"] else "not finite")
        )
    if failures:
        raise gpu_error("the CUDA GPU computes wrong results", "; ".join(failures), option)
    if device.type == "cuda":
        free, total = torch.cuda.mem_get_info(device)
        major, minor = torch.cuda.get_device_capability(device)
        name = torch.cuda.get_device_name(device)
    else:  # the tests' stand-in
        free = total = 0
        major, minor, name = 0, 0, str(device)
    return GpuReport(
        device=str(device),
        name=name,
        capability=f"{major}.{minor}",
        memory_free_gib=free / 2**30,
        memory_total_gib=total / 2**30,
        setup=describe_cuda_setup(),
        bf16_relative_error=found["bf16_relative_error"],
        ctc_loss=found["ctc_loss"],
        ctc_relative_error=found["ctc_relative_error"],
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------------- CPU threads and autocast
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
