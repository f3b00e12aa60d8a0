"""Emotion heads: the global input normalisation in front of the SER MLP and the fusion blocks."""

from __future__ import annotations

import pytest
import torch

from asrser.models.heads import FeedForwardSkip, GlobalNormalization, SerHead


def test_statistics_are_those_of_every_training_embedding_so_far():
    torch.manual_seed(0)
    norm = GlobalNormalization(6).train()
    batches = [torch.randn(n, 6) * 3 + 5 for n in (4, 1, 7, 2)]  # a batch of one included
    for batch in batches:
        out = norm(batch)
    seen = torch.cat(batches)
    torch.testing.assert_close(norm.mean, seen.mean(dim=0))
    torch.testing.assert_close(norm.var, seen.var(dim=0, unbiased=False))
    assert int(norm.count) == len(seen)
    expected = (batches[-1] - seen.mean(dim=0)) / (
        seen.var(dim=0, unbiased=False) + norm.eps
    ).sqrt()
    torch.testing.assert_close(out, expected)


def test_eval_mode_freezes_the_statistics_and_treats_utterances_alone():
    torch.manual_seed(0)
    norm = GlobalNormalization(4).train()
    norm(torch.randn(10, 4) + 2)
    mean, var = norm.mean.clone(), norm.var.clone()
    norm.eval()
    batch = torch.randn(5, 4)
    together = norm(batch)
    alone = torch.cat([norm(row[None]) for row in batch])
    torch.testing.assert_close(together, alone)
    assert torch.equal(norm.mean, mean) and torch.equal(norm.var, var)


def test_an_untrained_normalisation_passes_its_input_through():
    x = torch.randn(3, 5)
    assert torch.equal(GlobalNormalization(5).eval()(x), x)


@pytest.mark.parametrize("head", ["ser", "fusion"])
def test_training_ignores_a_constant_offset_of_the_embeddings(head):
    """Why the heads normalise: pooled encoder states are mostly a constant vector. Trained on the
    same embeddings with and without such an offset, a head learns the same function."""

    def build():
        torch.manual_seed(1)
        if head == "ser":
            return SerHead(8, 16, 4, dropout=0.0)
        return torch.nn.Sequential(FeedForwardSkip(8, 16, 32, dropout=0.0), torch.nn.Linear(16, 4))

    torch.manual_seed(2)
    inputs = [torch.randn(6, 8) for _ in range(20)]
    labels = [torch.randint(0, 4, (6,)) for _ in range(20)]
    offset = torch.linspace(-30, 30, 8)
    logits = []
    for shift in (0.0, offset):
        model = build().train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        for x, y in zip(inputs, labels, strict=True):
            loss = torch.nn.functional.cross_entropy(model(x + shift), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            logits.append(model(inputs[0] + shift))
    torch.testing.assert_close(logits[0], logits[1], atol=1e-4, rtol=1e-4)
