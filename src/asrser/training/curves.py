"""The training curves: a history's losses and validation metrics per epoch, as a PNG."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from asrser.common.io import save_figure


def plot_curves(history: pd.DataFrame, path: str | Path, title: str) -> None:
    """Losses (left) and validation metrics (right) per epoch, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (losses, metrics) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = history["epoch"]
    for column, label in (
        ("train_loss", "training loss"),
        ("ctc_loss", "training CTC"),
        ("ser_loss", "training CE"),
        ("valid_loss", "validation loss"),
    ):
        values = history[column].astype(float)
        if values.notna().any() and (column == "train_loss" or values.abs().sum() > 0):
            losses.plot(epochs, values, marker="o", label=label)
    losses.set(xlabel="epoch", ylabel="loss", title="losses")
    losses.legend()
    for column, label in (("valid_wer", "validation WER"), ("valid_acc", "validation accuracy")):
        values = history[column].astype(float)
        if values.notna().any():
            metrics.plot(epochs, values, marker="o", label=label)
    best = history.loc[history["is_best"].astype(bool), "epoch"]
    if len(best):
        metrics.axvline(int(best.iloc[-1]), color="grey", linestyle=":", label="kept (best)")
    metrics.set(xlabel="epoch", ylabel="fraction", title="validation", ylim=(0, None))
    metrics.legend()
    for axis in (losses, metrics):
        axis.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)
