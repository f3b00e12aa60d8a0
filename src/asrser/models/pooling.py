"""Encoder frame masks and mean pooling over valid frames only.

The input attention mask (from the feature extractor: samples for raw-waveform wav2vec2, stacked
log-mel frames for Wav2Vec2Bert) is mapped to encoder frames by the encoder's own length function,
`_get_feat_extract_output_lengths`: the conv stack's arithmetic for wav2vec2, the identity (or the
adapter's subsampling) for Wav2Vec2Bert. So one helper serves both.
"""

from __future__ import annotations

import torch
from torch import Tensor


def encoder_output_lengths(encoder_model, attention_mask: Tensor | None, n_frames: int) -> Tensor:
    """Valid encoder frames per utterance (B,), long. The mask is required (ValueError without
    one): without it padding could not be told from speech."""
    if attention_mask is None:
        raise ValueError("an attention mask is needed to tell padding from speech")
    input_lengths = attention_mask.sum(-1)
    lengths = encoder_model._get_feat_extract_output_lengths(input_lengths)
    return torch.as_tensor(lengths, device=attention_mask.device).long().clamp(max=n_frames)


def encoder_frame_mask(encoder_model, attention_mask: Tensor | None, n_frames: int) -> Tensor:
    """(B, n_frames) bool: True on encoder frames computed from real input, False on padding."""
    lengths = encoder_output_lengths(encoder_model, attention_mask, n_frames)
    frames = torch.arange(n_frames, device=lengths.device)
    return frames.unsqueeze(0) < lengths.unsqueeze(1)


def masked_mean(hidden: Tensor, frame_mask: Tensor) -> Tensor:
    """Mean of hidden (B, T, H) over the frames where frame_mask (B, T) is True -> (B, H).

    An utterance with no valid frame pools to zeros rather than NaN.
    """
    mask = frame_mask.unsqueeze(-1)
    # masked_fill (not a product) so that whatever sits in padded frames cannot leak in.
    total = hidden.masked_fill(~mask, 0.0).sum(dim=1)
    count = mask.sum(dim=1).clamp(min=1).to(hidden.dtype)
    return total / count
