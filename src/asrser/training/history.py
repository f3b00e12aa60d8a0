"""The training history: one row per epoch (losses, validation metrics, learning rates, speed),
written as history.csv beside the model."""

from __future__ import annotations

import math

HISTORY_COLUMNS = (
    "epoch",
    "steps",
    "train_loss",
    "ctc_loss",
    "ser_loss",
    "valid_loss",
    "valid_wer",
    "valid_acc",
    "valid_score",
    "is_best",
    "lr_encoder",
    "lr_heads",
    "seconds",
    "audio_seconds_per_second",
    "skipped_batches",
    "padding_waste",
)


def epoch_totals() -> dict:
    names = ("loss", "ctc_loss", "ser_loss", "steps", "skipped", "padded", "real", "audio_s")
    return dict.fromkeys((*names, "seconds"), 0.0)


def history_row(epoch: int, totals: dict, metrics: dict, is_best: bool, optimizer) -> dict:
    lrs = {"encoder": math.nan, "heads": math.nan}
    for group in optimizer.param_groups:
        lrs[group["name"].removesuffix("_no_decay")] = group["lr"]
    steps = totals["steps"]
    seconds = totals["seconds"]
    return {
        "epoch": epoch,
        "steps": int(steps),
        "train_loss": totals["loss"] / steps if steps else math.nan,
        "ctc_loss": totals["ctc_loss"] / steps if steps else math.nan,
        "ser_loss": totals["ser_loss"] / steps if steps else math.nan,
        **metrics,
        "is_best": is_best,
        "lr_encoder": lrs["encoder"],
        "lr_heads": lrs["heads"],
        "seconds": seconds,
        "audio_seconds_per_second": totals["audio_s"] / seconds if seconds else math.nan,
        "skipped_batches": int(totals["skipped"]),
        "padding_waste": totals["padded"] / totals["real"] if totals["real"] else 0.0,
    }


def describe_row(row: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())
