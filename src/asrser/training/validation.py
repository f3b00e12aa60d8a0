"""Validation after each epoch: loss, WER, accuracy and the score that picks the best epoch."""

from __future__ import annotations

import math

import numpy as np
import torch

from asrser.data.batching import EMOTION_MODELS, TEXT_MODELS, group_by_duration
from asrser.data.collation import Split, make_batch
from asrser.evaluation.metrics import pooled_wer
from asrser.runtime.device import autocast


@torch.no_grad()
def validate(model, processor, split: Split, device, max_batch_seconds: float) -> dict:
    """Validation loss, WER (asr, joint), accuracy (ser, joint) and the selection score."""
    model_type = model.config.model
    was_training = model.training
    model.eval()
    order = np.argsort(split.durations, kind="stable")
    batches = group_by_duration(split.durations, order, max_batch_seconds)
    references, hypotheses = [], []
    correct = total = 0
    loss_sum = 0.0
    try:
        for indices in batches:
            batch = make_batch(split, indices, processor, model_type).to(device)
            with autocast(device):
                out = model(batch, decode=True)
            loss_sum += float(out.loss) * len(batch)
            if model_type in TEXT_MODELS:
                references += batch.transcripts
                hypotheses += out.hypotheses
            if model_type in EMOTION_MODELS:
                predicted = out.emotion_logits.float().argmax(-1)
                correct += int((predicted == batch.emotions).sum())
                total += len(batch)
    finally:
        model.train(was_training)
    wer = pooled_wer(references, hypotheses) if model_type in TEXT_MODELS else math.nan
    accuracy = correct / total if model_type in EMOTION_MODELS else math.nan
    score = {"asr": -wer, "ser": accuracy, "joint": accuracy - wer}[model_type]
    return {
        "valid_loss": loss_sum / len(split.utterances),
        "valid_wer": wer,
        "valid_acc": accuracy,
        "valid_score": score,
    }
