"""Head warm-up: fit the emotion heads on the start encoder's embeddings before fine-tuning.

Short fine-tuning runs (the demo's two epochs are about fifty optimizer steps) leave heads that
start from random weights barely trained: a logistic regression on the untouched demo encoder's
pooled states beat both the SER baseline and the joint model, and the joint model could not use
its linguistic branch at all (reference transcripts gave the same accuracy as its hypotheses).
Fitting the heads first, on embeddings of the training split computed once by the frozen start
encoder (and, for the joint model, BERT embeddings of its greedy hypotheses), then fine-tuning
everything is "linear probing, then fine-tuning" (Kumar et al., ICLR 2022): the encoder's first
updates then follow heads that already point somewhere useful.

The embeddings come from the model in eval mode (no dropout, no time masking), in the batches
the caller gives; the heads then take `steps` full-batch AdamW steps with dropout on. Their input
normalisations (`GlobalNormalization`) take the statistics of all these embeddings at once and
stay fixed during the warm-up, so that fine-tuning goes on merging from one observation of the
split, not from `steps` copies of it. Off unless `train.head_warmup_steps` > 0.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional

from asrser.models.heads import GlobalNormalization
from asrser.runtime.device import autocast
from asrser.training.optim import decay_groups

log = logging.getLogger(__name__)


@dataclass
class EmotionInputs:
    """What the emotion head reads, for a whole split (rows aligned)."""

    pooled: Tensor  # (N, encoder width)
    linguistic: Tensor | None  # (N, BERT width), joint only
    emotions: Tensor  # (N,) class indices

    def __len__(self) -> int:
        return len(self.emotions)


@torch.no_grad()
def collect_emotion_inputs(model, batches: Iterable, device: torch.device) -> EmotionInputs:
    """Run the model in eval mode over `batches` (collated, with emotion targets) and keep the
    embeddings its emotion head reads, in float32 on `device`."""
    was_training = model.training
    model.eval()
    pooled, linguistic, emotions, utt_ids = [], [], [], []
    try:
        for batch in batches:
            batch = batch.to(device)
            with autocast(device):
                out = model(batch, decode=True)
            pooled.append(out.acoustic_embedding.float())
            if out.linguistic_embedding is not None:
                linguistic.append(out.linguistic_embedding.float())
            emotions.append(batch.emotions)
            utt_ids += batch.utt_ids
    finally:
        model.train(was_training)
    if not emotions:
        raise ValueError("head warm-up: the training split gave no batches")
    inputs = EmotionInputs(
        pooled=torch.cat(pooled),
        linguistic=torch.cat(linguistic) if linguistic else None,
        emotions=torch.cat(emotions),
    )
    return _finite_rows(inputs, utt_ids)


def _finite_rows(inputs: EmotionInputs, utt_ids: list[str]) -> EmotionInputs:
    """The rows whose embeddings are finite: the warm-up's full-batch loss would be NaN with
    one that is not (as fine-tuning skips the batch of such an utterance)."""
    finite = torch.isfinite(inputs.pooled).all(dim=1)
    if inputs.linguistic is not None:
        finite &= torch.isfinite(inputs.linguistic).all(dim=1)
    if bool(finite.all()):
        return inputs
    dropped = [utt for utt, keep in zip(utt_ids, finite.tolist(), strict=True) if not keep]
    if len(dropped) == len(utt_ids):
        raise ValueError(
            f"head warm-up: every one of the {len(utt_ids)} training utterances gave a "
            "non-finite embedding; check the audio and the encoder"
        )
    log.warning(
        "head warm-up: %d utterance(s) gave a non-finite embedding and are left out (%s)",
        len(dropped),
        ", ".join(dropped[:5]) + (", ..." if len(dropped) > 5 else ""),
    )
    return EmotionInputs(
        pooled=inputs.pooled[finite],
        linguistic=inputs.linguistic[finite] if inputs.linguistic is not None else None,
        emotions=inputs.emotions[finite],
    )


def warm_up_heads(
    model, inputs: EmotionInputs, steps: int, lr: float, weight_decay: float, seed: int
) -> dict:
    """`steps` full-batch AdamW steps of the model's emotion heads on `inputs`; returns the last
    step's training loss and the heads' training accuracy afterwards (dropout off)."""
    heads = model.emotion_head_modules()
    if not heads:
        raise ValueError(f"the {model.config.model} model has no emotion head to warm up")
    normalizations = [
        m for head in heads for m in head.modules() if isinstance(m, GlobalNormalization)
    ]
    # Each normalisation sees its own input: observe through one forward in train mode with
    # the statistics of all rows, then freeze them for the warm-up.
    for head in heads:
        head.train()
    with torch.no_grad():
        model.classify_emotion(inputs.pooled, inputs.linguistic)
    for normalization in normalizations:
        normalization.eval()
    parameters = [p for head in heads for p in head.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": members, "weight_decay": decay}
            for _, members, decay in decay_groups(parameters, weight_decay)
        ],
        lr=lr,
    )
    torch.manual_seed(seed)  # dropout
    loss = torch.tensor(float("nan"))
    for _ in range(steps):
        logits = model.classify_emotion(inputs.pooled, inputs.linguistic)
        loss = functional.cross_entropy(logits.float(), inputs.emotions)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    # The fine-tuning's first backward adds to whatever gradient is there: leave none behind.
    optimizer.zero_grad(set_to_none=True)
    for head in heads:
        head.eval()
    with torch.no_grad():
        predicted = model.classify_emotion(inputs.pooled, inputs.linguistic).argmax(-1)
    for head in heads:
        head.train(model.training)
    summary = {
        "utterances": len(inputs),
        "steps": steps,
        "train_loss": float(loss.detach()),
        "train_acc": float((predicted == inputs.emotions).float().mean()),
    }
    log.info(
        "head warm-up on %d utterances: %d steps, loss %.3f, training accuracy %.3f",
        summary["utterances"],
        steps,
        summary["train_loss"],
        summary["train_acc"],
    )
    return summary
