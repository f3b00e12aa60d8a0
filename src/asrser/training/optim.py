"""The optimizer: AdamW's parameter groups (shared by fine-tuning and the head warm-up) and the
learning-rate schedule (linear warm-up, then linear decay)."""

from __future__ import annotations

import torch
from torch import nn

from asrser.training.settings import TrainConfig, TrainingError


def decay_groups(
    parameters: list[nn.Parameter], weight_decay: float
) -> list[tuple[str, list[nn.Parameter], float]]:
    """(name suffix, parameters, weight decay): decay on weight matrices only, not on biases and
    norm scales, as BERT's pretraining did. Empty groups are left out."""
    groups = (
        ("", [p for p in parameters if p.ndim >= 2], weight_decay),
        ("_no_decay", [p for p in parameters if p.ndim < 2], 0.0),
    )
    return [group for group in groups if group[1]]


def lr_factor(progress: float, warmup_fraction: float, final_fraction: float) -> float:
    """Linear warm-up to 1 over the first `warmup_fraction` of training, then linear decay to
    `final_fraction` at the end (progress in [0, 1])."""
    progress = min(max(progress, 0.0), 1.0)
    if warmup_fraction > 0 and progress < warmup_fraction:
        return progress / warmup_fraction
    span = 1.0 - warmup_fraction
    remaining = (1.0 - progress) / span if span > 0 else 0.0
    return final_fraction + (1.0 - final_fraction) * remaining


def make_optimizer(model, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW over model.parameter_groups(): encoder and heads at their own learning rates;
    weight decay on weight matrices only (not on biases and norms)."""
    groups = []
    for name, params in model.parameter_groups().items():
        lr = config.lr_encoder if name == "encoder" else config.lr_heads
        for suffix, members, decay in decay_groups(params, config.weight_decay):
            groups.append(
                dict(params=members, lr=lr, initial_lr=lr, weight_decay=decay, name=name + suffix)
            )
    if not groups:
        raise TrainingError("the model has no trainable parameters")
    # The fused kernel: on the CPU the per-tensor loop took ~6 ms a step of the demo encoder's
    # ~90, the fused one ~1.4 (CUDA has one too).
    return torch.optim.AdamW(groups, fused=True)
