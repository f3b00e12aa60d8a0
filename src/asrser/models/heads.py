"""Task heads on top of the shared encoder: the SER MLP and the joint model's fusion blocks.

Each head first standardises its input embedding with statistics gathered over the training
utterances (`GlobalNormalization`, as SpeechBrain's InputNormalization with norm_type "global").
Mean-pooled encoder states are mostly a constant offset (on the demo encoder the mean vector
carries 93 % of their norm; what tells utterances apart has a standard deviation of ~0.2 per
dimension), and BERT sentence embeddings are offset too. On such input Adam moves a linear
layer's weights along the offset, not along what differs between emotions; centred and scaled
input trains as a logistic regression on standardised features does. A batch norm would do the
same with the statistics of each batch, but the fine-tuning batches hold about ten utterances
and their statistics are too noisy (measured: worse SER accuracy than no normalisation).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class GlobalNormalization(nn.Module):
    """(B, size) -> (x - mean) / std with the mean and variance of every embedding seen in
    training so far (updated before normalising; frozen in eval mode and saved as buffers)."""

    def __init__(self, size: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("mean", torch.zeros(size))
        self.register_buffer("var", torch.ones(size))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def observe(self, x: Tensor) -> None:
        """Merge the embeddings x (B, size) into the statistics (what a training forward does)."""
        # Chan et al.'s parallel merge of (count, mean, variance) with the batch's. A row that
        # is not finite (a corrupt utterance) is left out: one NaN would stay in them for good.
        x = x.float()
        x = x[torch.isfinite(x).all(dim=1)]
        n_batch = x.shape[0]
        if n_batch == 0:
            return
        batch_mean = x.mean(dim=0)
        batch_var = x.var(dim=0, unbiased=False)
        n_old = self.count.item()
        total = n_old + n_batch
        delta = batch_mean - self.mean
        self.mean += delta * (n_batch / total)
        self.var.copy_(
            (self.var * n_old + batch_var * n_batch + delta.pow(2) * (n_old * n_batch / total))
            / total
        )
        self.count += n_batch

    def forward(self, x: Tensor) -> Tensor:
        if self.training:
            self.observe(x.detach())
        if self.count.item() == 0:  # untrained: nothing to normalise with yet
            return x
        return (x - self.mean.to(x.dtype)) / (self.var.to(x.dtype) + self.eps).sqrt()


class SerHead(nn.Module):
    """Pooled acoustic embedding -> normalised -> MLP -> emotion logits (the SER baseline's
    output MLP)."""

    def __init__(self, in_size: int, hidden_size: int, n_classes: int, dropout: float):
        super().__init__()
        self.layers = nn.Sequential(
            GlobalNormalization(in_size),
            nn.Dropout(dropout),
            nn.Linear(in_size, hidden_size),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, n_classes),
        )

    def forward(self, pooled: Tensor) -> Tensor:
        return self.layers(pooled)


class FeedForwardSkip(nn.Module):
    """y = x + FF(LayerNorm(x)), x = the normalised input projected to `size` (when its width
    differs).

    The skip connection of the paper's fusion network; the projection lets the acoustic and the
    linguistic branch meet at one width before concatenation."""

    def __init__(self, in_size: int, size: int, ff_size: int, dropout: float):
        super().__init__()
        self.normalize = GlobalNormalization(in_size)
        self.project = nn.Identity() if in_size == size else nn.Linear(in_size, size)
        self.norm = nn.LayerNorm(size)
        self.feed_forward = nn.Sequential(
            nn.Linear(size, ff_size),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(ff_size, size),
            nn.Dropout(dropout),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.project(self.normalize(x))
        return x + self.feed_forward(self.norm(x))
