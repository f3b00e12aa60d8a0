"""The paper's Fig. 2: each model's change against the clean-trained baseline, per test condition.

The clean-trained baseline is the reference (the paper's section 5) and each of the other three
models is shown as its change relative to it:
  (a) ASR: relative WER reduction, (reference - model) / reference * 100, positive = better;
  (b) SER: accuracy change in points, model - reference, positive = better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from asrser import TEST_CONDITIONS
from asrser.report.figure_style import SERIES_COLOURS, SERIES_LABELS, bar_text, legend, tick_labels
from asrser.report.table1 import (
    accuracy_absolute_improvement,
    column_name,
    wer_relative_improvement,
)


def fig2_changes(table: pd.DataFrame, task: str) -> pd.DataFrame:
    """Change of each compared model vs the clean-trained baseline, from a Table 1 frame (%).

    Returns rows (test_condition, part, train, change): for 'asr' the relative WER reduction in
    percent, for 'ser' the accuracy difference in points; positive = better than the reference.
    """
    if task not in ("asr", "ser"):
        raise ValueError(f"task must be 'asr' or 'ser', got {task!r}")
    change = wer_relative_improvement if task == "asr" else accuracy_absolute_improvement
    reference = table[column_name(task, "clean", "baseline")].to_numpy(dtype=float)
    rows = []
    for part, train in SERIES_COLOURS:
        values = change(reference, table[column_name(task, train, part)].to_numpy(dtype=float))
        for condition, value in zip(table["test_condition"], values, strict=True):
            rows.append(
                {"test_condition": condition, "part": part, "train": train, "change": value}
            )
    return pd.DataFrame(rows)


def plot_fig2(
    table: pd.DataFrame,
    task: str,
    title_suffix: str = "",
    intervals: pd.DataFrame | None = None,
    note: str = "",
) -> Figure:
    """Grouped bars of `fig2_changes` per test condition, with a zero line and value labels.

    `intervals` (test_condition, part, train, low, high), in the bars' units, adds error bars;
    `note`, below the axes, says what the bars and error bars are.
    """
    changes = fig2_changes(table, task)
    fig = Figure(figsize=(11, 5.2), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(TEST_CONDITIONS))
    width = 0.26
    for i, (key, colour) in enumerate(SERIES_COLOURS.items()):
        part, train = key
        series = changes[(changes["part"] == part) & (changes["train"] == train)]
        values = (
            series.set_index("test_condition")["change"].reindex(list(TEST_CONDITIONS)).to_numpy()
        )
        bars = ax.bar(
            x + (i - 1) * width,
            values,
            width,
            color=colour,
            label=SERIES_LABELS[key],
            edgecolor="black",
            linewidth=0.4,
        )
        if intervals is None:
            ax.bar_label(bars, labels=[bar_text(v) for v in values], fontsize=6.5, padding=2)
        else:
            _error_bars(ax, x + (i - 1) * width, values, intervals, part, train)
    ax.axhline(0.0, color="black", linewidth=0.9)
    ax.set_xticks(x, tick_labels())
    ax.tick_params(axis="x", labelsize=9)
    ax.grid(axis="y", linewidth=0.4, alpha=0.6)
    ax.set_axisbelow(True)
    ax.margins(y=0.15)
    # At least +/-1 unit around zero: identical models would otherwise get a 1e-17 axis.
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, -1.0), max(high, 1.0))
    if task == "asr":
        ax.set_ylabel("Relative WER reduction (%)\n\u2191 better than reference")
        title = "(a) ASR: WER relative to the clean-trained ASR baseline"
    else:
        ax.set_ylabel("Accuracy change (points)\n\u2191 better than reference")
        title = "(b) SER: accuracy relative to the clean-trained SER baseline"
    fig.suptitle(title + title_suffix, fontsize=12)
    ax.set_xlabel("Test condition")
    # Above the axes, so the legend never hides a bar.
    legend(ax, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, frameon=False)
    if note:
        fig.supxlabel(note, fontsize=8)
    return fig


def _error_bars(ax, centres, values, intervals: pd.DataFrame, part: str, train: str) -> None:
    """Error bars from low to high, and each bar's value beyond the end of its error bar."""
    rows = intervals[(intervals["part"] == part) & (intervals["train"] == train)]
    rows = rows.set_index("test_condition").reindex(list(TEST_CONDITIONS))
    low, high = rows["low"].to_numpy(float), rows["high"].to_numpy(float)
    ax.errorbar(centres, (low + high) / 2, (high - low) / 2, fmt="none", ecolor="black",
                elinewidth=0.8, capsize=2)  # fmt: skip
    for centre, value, bottom, top in zip(centres, values, low, high, strict=True):
        if np.isfinite(value):
            up = round(value, 1) >= 0  # a bar labelled 0.0 is labelled above
            end = np.nanmax([value, top]) if up else np.nanmin([value, bottom])
            ax.annotate(bar_text(value), (centre, end), xytext=(0, 2 if up else -2),
                        textcoords="offset points", ha="center", va="bottom" if up else "top",
                        fontsize=6.5)  # fmt: skip
