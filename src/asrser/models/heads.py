"""Task heads on top of the shared encoder: the SER MLP and the joint model's fusion blocks."""

from __future__ import annotations

from torch import Tensor, nn


class SerHead(nn.Module):
    """Pooled acoustic embedding -> MLP -> emotion logits (the SER baseline's output MLP)."""

    def __init__(self, in_size: int, hidden_size: int, n_classes: int, dropout: float):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(in_size, hidden_size),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, n_classes),
        )

    def forward(self, pooled: Tensor) -> Tensor:
        return self.layers(pooled)


class FeedForwardSkip(nn.Module):
    """y = x + FF(LayerNorm(x)) after projecting the input to `size` (when its width differs).

    The skip connection of the paper's fusion network; the projection lets the acoustic and the
    linguistic branch meet at one width before concatenation."""

    def __init__(self, in_size: int, size: int, ff_size: int, dropout: float):
        super().__init__()
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
        x = self.project(x)
        return x + self.feed_forward(self.norm(x))
