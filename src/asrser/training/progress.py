"""Where a training run stands: the bookkeeping a resume point saves, and the state a skipped
batch must leave untouched."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor

from asrser.models.heads import GlobalNormalization


@dataclass
class Progress:
    """Where training stands; saved in resume.pt."""

    epoch: int = 0  # current (unfinished) epoch
    step: int = 0  # next batch of that epoch
    global_step: int = 0  # optimizer steps taken (skipped batches do not count)
    batches_done: int = 0  # batches consumed (for the schedule)
    elapsed_s: float = 0.0  # training wall time over all sessions
    best_score: float = -math.inf
    best_loss: float = math.inf  # validation loss of the best epoch (breaks score ties)
    best_epoch: int = -1
    nonfinite_in_row: int = 0  # consecutive skipped batches (kept across a resume)
    finished: bool = False
    history: list[dict] = field(default_factory=list)
    epoch_totals: dict = field(default_factory=dict)  # running sums of the unfinished epoch


def group_sizes(optimizer_state) -> list[int] | None:
    """Parameters per group of an optimizer state dict; None when it is not one."""
    groups = optimizer_state.get("param_groups") if isinstance(optimizer_state, dict) else None
    if not isinstance(groups, list) or not all(isinstance(group, dict) for group in groups):
        return None
    return [len(group.get("params", ())) for group in groups]


def running_statistics(model: torch.nn.Module) -> list[Tensor]:
    """The buffers a training forward updates: the heads' input normalisations and any batch
    norm's running mean and variance."""
    updated = (GlobalNormalization, torch.nn.modules.batchnorm._BatchNorm)
    return [
        buffer
        for module in model.modules()
        if isinstance(module, updated)
        for buffer in module.buffers(recurse=False)
    ]
