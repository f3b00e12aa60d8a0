"""Figures: per-fold spread and confusion matrices, and every figure written (Fig. 2 is
asrser.report.fig2).

Figures are built on `matplotlib.figure.Figure` (Agg canvas, no pyplot global state) and written
with `asrser.common.io.save_figure`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from asrser import EMOTIONS, TEST_CONDITIONS, TRAIN_CONDITIONS
from asrser.common.io import save_figure
from asrser.report.fig2 import plot_fig2
from asrser.report.figure_style import (
    DPI,
    FIGURE_FORMATS,
    MODEL_COLOURS,
    MODEL_LABELS,
    SERIES_COLOURS,
    legend,
    tick_labels,
)
from asrser.report.table1 import (
    CONDITION_LABELS,
    TRAIN_LABELS,
    accuracy_absolute_improvement,
    column_name,
    wer_relative_improvement,
)


def plot_per_fold(
    per_fold: pd.DataFrame, metrics: pd.DataFrame | None = None, note: str = ""
) -> Figure:
    """Each fold's WER (top) and accuracy (bottom) per condition, baseline vs joint per train.

    Dots are folds (held-out speakers); the black bar is the pooled value when `metrics` is given.
    """
    fig = Figure(figsize=(13, 7.5), layout="constrained")
    axes = fig.subplots(2, len(TRAIN_CONDITIONS), sharey="row", squeeze=False)
    rng = np.random.default_rng(0)  # jitter only; fixed so figures are reproducible
    panels = (("asr", "wer", "WER (%)"), ("ser", "wa", "Accuracy (%)"))
    x = np.arange(len(TEST_CONDITIONS))
    for row, (baseline, metric, ylabel) in enumerate(panels):
        for col, train in enumerate(TRAIN_CONDITIONS):
            ax = axes[row, col]
            for i, model in enumerate((baseline, "joint")):
                offset = (i - 0.5) * 0.36
                subset = per_fold[(per_fold["model"] == model) & (per_fold["train"] == train)]
                for j, condition in enumerate(TEST_CONDITIONS):
                    values = subset.loc[subset["condition"] == condition, metric].to_numpy(float)
                    values = values[np.isfinite(values)] * 100.0
                    if values.size == 0:
                        continue
                    ax.boxplot(
                        values,
                        positions=[x[j] + offset],
                        widths=0.3,
                        showfliers=False,
                        patch_artist=True,
                        boxprops={"facecolor": MODEL_COLOURS[model], "alpha": 0.25},
                        medianprops={"color": MODEL_COLOURS[model]},
                    )
                    jitter = rng.uniform(-0.08, 0.08, values.size)
                    ax.scatter(
                        x[j] + offset + jitter,
                        values,
                        s=10,
                        color=MODEL_COLOURS[model],
                        edgecolor="black",
                        linewidth=0.3,
                        zorder=3,
                        label=MODEL_LABELS[model] if j == 0 else None,
                    )
                    if metrics is not None:
                        pooled = _pooled(metrics, model, train, condition, metric)
                        ax.hlines(
                            pooled * 100.0,
                            x[j] + offset - 0.16,
                            x[j] + offset + 0.16,
                            color="black",
                            linewidth=1.6,
                            zorder=4,
                            label="Pooled over folds" if (j == 0 and i == 1) else None,
                        )
            ax.set_xticks(x, tick_labels())
            ax.tick_params(axis="x", labelsize=8)
            ax.set_xlim(-0.6, len(TEST_CONDITIONS) - 0.4)
            ax.grid(axis="y", linewidth=0.4, alpha=0.6)
            ax.set_axisbelow(True)
            ax.set_title(
                f"{'ASR' if baseline == 'asr' else 'SER'}, {TRAIN_LABELS[train].lower()}",
                fontsize=10,
            )
            if col == 0:
                better = "\u2193 better" if metric == "wer" else "\u2191 better"
                ax.set_ylabel(f"{ylabel}, {better}")
            legend(ax, fontsize=7, loc="upper left")
    fig.suptitle("Per-fold spread: one dot per held-out speaker" + note, fontsize=12)
    return fig


def per_fold_gains(per_fold: pd.DataFrame) -> pd.DataFrame:
    """Joint-vs-baseline gain of each fold: rows (task, train, condition, fold, gain).

    ASR: relative WER reduction (%); SER: accuracy difference (points); positive = joint better.
    """
    rows = []
    for task, baseline, metric in (("asr", "asr", "wer"), ("ser", "ser", "wa")):
        keys = ["train", "condition", "fold"]
        base = per_fold[per_fold["model"] == baseline].set_index(keys)[metric]
        joint = per_fold[per_fold["model"] == "joint"].set_index(keys)[metric]
        both = pd.concat({"baseline": base, "joint": joint}, axis=1).dropna()
        if task == "asr":
            gain = wer_relative_improvement(both["baseline"] * 100.0, both["joint"] * 100.0)
        else:
            gain = accuracy_absolute_improvement(both["baseline"] * 100.0, both["joint"] * 100.0)
        for (train, condition, fold), value in zip(both.index, gain, strict=True):
            rows.append(
                {"task": task, "train": train, "condition": condition, "fold": fold, "gain": value}
            )
    return pd.DataFrame(rows, columns=["task", "train", "condition", "fold", "gain"])


def plot_per_fold_gains(
    per_fold: pd.DataFrame, table: pd.DataFrame | None = None, note: str = ""
) -> Figure:
    """Per-fold joint-vs-baseline gain per condition: does a pooled gain hold across speakers?"""
    gains = per_fold_gains(per_fold)
    fig = Figure(figsize=(13, 4.8), layout="constrained")
    axes = fig.subplots(1, 2, squeeze=False)[0]
    rng = np.random.default_rng(0)
    x = np.arange(len(TEST_CONDITIONS))
    colours = {
        "clean": SERIES_COLOURS[("joint", "clean")],
        "noisy": SERIES_COLOURS[("joint", "noisy")],
    }
    for ax, task in zip(axes, ("asr", "ser"), strict=True):
        for i, train in enumerate(TRAIN_CONDITIONS):
            offset = (i - 0.5) * 0.36
            subset = gains[(gains["task"] == task) & (gains["train"] == train)]
            for j, condition in enumerate(TEST_CONDITIONS):
                values = subset.loc[subset["condition"] == condition, "gain"].to_numpy(float)
                values = values[np.isfinite(values)]
                if values.size:
                    jitter = rng.uniform(-0.08, 0.08, values.size)
                    ax.scatter(
                        x[j] + offset + jitter,
                        values,
                        s=12,
                        color=colours[train],
                        edgecolor="black",
                        linewidth=0.3,
                        zorder=3,
                        label=TRAIN_LABELS[train] + " (folds)" if j == 0 else None,
                    )
                if table is not None:
                    pooled = float(
                        table.loc[
                            table["test_condition"] == condition,
                            column_name(task, train, "improvement"),
                        ].iloc[0]
                    )
                    ax.hlines(
                        pooled,
                        x[j] + offset - 0.16,
                        x[j] + offset + 0.16,
                        color="black",
                        linewidth=1.6,
                        zorder=4,
                        label="Pooled (Table 1)" if (j == 0 and i == 1) else None,
                    )
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xticks(x, tick_labels())
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="y", linewidth=0.4, alpha=0.6)
        ax.set_axisbelow(True)
        if task == "asr":
            ax.set_title("ASR: joint vs ASR baseline", fontsize=10)
            ax.set_ylabel("Relative WER reduction (%), \u2191 joint better")
        else:
            ax.set_title("SER: joint vs SER baseline", fontsize=10)
            ax.set_ylabel("Accuracy gain (points), \u2191 joint better")
        legend(ax, fontsize=7, loc="best")
    fig.suptitle("Joint-model gain per held-out speaker (one dot per fold)" + note, fontsize=12)
    return fig


def _pooled(metrics: pd.DataFrame, model: str, train: str, condition: str, metric: str) -> float:
    match = metrics[
        (metrics["model"] == model)
        & (metrics["train"] == train)
        & (metrics["condition"] == condition)
    ]
    return float(match[metric].iloc[0]) if len(match) else float("nan")


def plot_confusion_grid(confusion: pd.DataFrame, model: str, note: str = "") -> Figure:
    """Row-normalised confusion matrices of one model: rows = train, columns = test condition.

    Colour = share of the reference class (row); the text is the count.
    """
    fig = Figure(figsize=(17, 5.4), layout="constrained")
    axes = fig.subplots(len(TRAIN_CONDITIONS), len(TEST_CONDITIONS), squeeze=False)
    k = len(EMOTIONS)
    image = None
    for r, train in enumerate(TRAIN_CONDITIONS):
        for c, condition in enumerate(TEST_CONDITIONS):
            ax = axes[r, c]
            cell = confusion[
                (confusion["model"] == model)
                & (confusion["train"] == train)
                & (confusion["condition"] == condition)
            ]
            counts = np.zeros((k, k), dtype=int)
            for row in cell.itertuples():
                counts[EMOTIONS.index(row.ref_emotion), EMOTIONS.index(row.pred_emotion)] = (
                    row.count
                )
            totals = counts.sum(axis=1, keepdims=True)
            shares = np.divide(counts, totals, out=np.zeros((k, k)), where=totals > 0)
            image = ax.imshow(shares, vmin=0.0, vmax=1.0, cmap="Blues")
            for i in range(k):
                for j in range(k):
                    ax.text(
                        j,
                        i,
                        str(counts[i, j]),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if shares[i, j] > 0.6 else "black",
                    )
            ax.set_xticks(range(k), EMOTIONS, fontsize=7)
            ax.set_yticks(range(k), EMOTIONS, fontsize=7)
            if cell.empty:
                ax.set_title(f"{CONDITION_LABELS[condition]}\n(not evaluated)", fontsize=8)
            else:
                accuracy = np.trace(counts) / max(counts.sum(), 1) * 100.0
                ax.set_title(f"{CONDITION_LABELS[condition]}\nacc. {accuracy:.1f}%", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"{TRAIN_LABELS[train]}\nreference", fontsize=8)
            if r == len(TRAIN_CONDITIONS) - 1:
                ax.set_xlabel("predicted", fontsize=8)
    if image is not None:
        bar = fig.colorbar(image, ax=axes, shrink=0.8, fraction=0.02)
        bar.set_label("share of reference class (row)", fontsize=8)
    title = f"Confusion matrices: {MODEL_LABELS[model]} model (counts in cells{note})"
    fig.suptitle(title, fontsize=12)
    return fig


def _save(fig: Figure, stem: Path) -> list[Path]:
    paths = []
    for fmt in FIGURE_FORMATS:
        path = stem.with_suffix(f".{fmt}")
        save_figure(fig, path, dpi=DPI)
        paths.append(path)
    return paths


def write_figures(
    table: pd.DataFrame,
    per_fold: pd.DataFrame,
    metrics: pd.DataFrame,
    confusion: pd.DataFrame,
    figures_dir: str | Path,
    fig2_intervals: dict[str, pd.DataFrame] | None = None,
    notes: dict[str, str] | None = None,
) -> dict[str, Path]:
    """Write every figure (PNG and PDF) into `figures_dir`; return {name_format: path}.

    Over several seeds: `fig2_intervals` {task: intervals} adds Fig. 2's error bars, and
    `notes` {"fig2", "per_fold", "confusion"} says in each figure what its numbers are.
    """
    figures_dir = Path(figures_dir)
    intervals, notes = fig2_intervals or {}, notes or {}
    fig2_note, fold_note, confusion_note = (
        notes.get(k, "") for k in ("fig2", "per_fold", "confusion")
    )
    figures = {
        "fig2a_asr": plot_fig2(table, "asr", intervals=intervals.get("asr"), note=fig2_note),
        "fig2b_ser": plot_fig2(table, "ser", intervals=intervals.get("ser"), note=fig2_note),
        "per_fold": plot_per_fold(per_fold, metrics, note=fold_note),
        "per_fold_gain": plot_per_fold_gains(per_fold, table, note=fold_note),
        "confusion_ser": plot_confusion_grid(confusion, "ser", note=confusion_note),
        "confusion_joint": plot_confusion_grid(confusion, "joint", note=confusion_note),
    }
    written = {}
    for name, fig in figures.items():
        for path in _save(fig, figures_dir / name):
            written[f"{name}_{path.suffix.lstrip('.')}"] = path
    return written
