"""Tensors in torch's own memory, for results that do not depend on where numpy put an array.

torch.from_numpy shares the array's memory, whose alignment depends on the process's allocation
history (malloc gives 16 bytes; a segment of a file is an offset view). Vectorised CPU kernels
may sum in another order for data not aligned to the vector width (Intel MKL documents that its
results can depend on the alignment outside its Conditional Numerical Reproducibility mode). The
same batch could then give different last bits in two processes (a Slurm job and a local run),
and a few hundred training steps turn those into different models. Tensors made by torch are 64-byte aligned (c10's allocator), so copying
there at the numpy -> torch boundary makes every run see the same alignment.
"""

from __future__ import annotations

import numpy as np
import torch

ALIGNMENT = 64  # bytes: c10's CPU allocator, a cache line and an AVX-512 register


def aligned(values: np.ndarray | torch.Tensor) -> torch.Tensor:
    """`values` as a contiguous tensor whose data is ALIGNMENT-aligned: shared when a tensor
    already is, a copy in torch's memory otherwise."""
    tensor = torch.as_tensor(values)
    if tensor.is_contiguous() and tensor.data_ptr() % ALIGNMENT == 0:
        return tensor
    return tensor.clone(memory_format=torch.contiguous_format)
