"""Tiny encoders for tests: the demo's log-mel kind and the paper's raw-waveform kind."""

from __future__ import annotations

from pathlib import Path

import torch

from asrser.models.demo_encoder import create_demo_encoder, create_tiny_wav2vec2

ENCODER_KINDS = ("demo", "tiny_wav2vec2")


def tiny_encoder(kind: str, folder: Path) -> Path:
    """Save a seeded tiny CTC encoder of `kind` (one of ENCODER_KINDS) to `folder`."""
    torch.manual_seed(0)
    if kind == "demo":
        return create_demo_encoder(
            folder, hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64
        )
    return create_tiny_wav2vec2(folder)
