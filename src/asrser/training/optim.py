"""AdamW parameter groups shared by fine-tuning (asrser.training.train) and the head warm-up."""

from __future__ import annotations

from torch import nn


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
