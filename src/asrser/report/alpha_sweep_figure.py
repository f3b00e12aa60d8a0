"""The alpha sweep's Markdown table and figure, from `alpha_sweep.sweep_table`'s frame."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from asrser import TRAIN_CONDITIONS
from asrser.common.run_names import format_alpha
from asrser.report.alpha_sweep import SWEEP_METRICS, TEST_SETS
from asrser.report.hierarchical_bootstrap import REFERENCE
from asrser.report.table1 import TRAIN_LABELS, _fmt
from asrser.report.table1_render import _format_p

METRIC_LABELS = {"wer": "WER (%)", "accuracy": "Emotion accuracy (%)"}
BETTER = {"wer": "\u2193 better", "accuracy": "\u2191 better"}
SET_COLOURS = {"clean": "#0072B2", "noisy": "#D55E00"}  # Okabe-Ito blue and vermilion
BASELINE_OF_METRIC = {"wer": "asr", "accuracy": "ser"}
BASELINE_LABELS = {"asr": "ASR baseline", "ser": "SER baseline"}
SHORT_SET_LABELS = {"clean": "clean speech", "noisy": "noisy speech (6 conditions pooled)"}


def _method(table: pd.DataFrame) -> str:
    """Spread and interval of the joint model's points (a baseline row's own seeds and interval
    are in its columns n_seeds and interval)."""
    confidence = float(table["confidence"].iloc[0])
    seeds = table.loc[table["model"] == "joint", "n_seeds"].astype(int)
    if seeds.max() > 1:
        spread = "mean ± SD (n − 1) over " + (
            f"{seeds.max()} training seeds" if seeds.min() == seeds.max() else
            f"{seeds.min()} to {seeds.max()} training seeds"
        )  # fmt: skip
        interval = (
            "hierarchical bootstrap over training seeds and test utterances "
            "(Saravanan, Berman & Sober 2020)"
        )
    else:
        spread, interval = "one training seed", "bootstrap over test utterances"
    return (
        f"{spread}; [{confidence:.0%} CI], percentile interval of a {interval}, "
        f"{int(table['n_resamples'].iloc[0]):,} resamples"
    )


def _cell(row, metric: str) -> str:
    mean, sd = float(row[metric]), float(row[f"{metric}_sd"])
    if not math.isfinite(mean):
        return "–"
    text = _fmt(mean * 100.0) + (f" ± {_fmt(sd * 100.0)}" if math.isfinite(sd) else "")
    low, high = float(row[f"{metric}_ci_low"]) * 100.0, float(row[f"{metric}_ci_high"]) * 100.0
    return text + f" [{_fmt(low)}, {_fmt(high)}]"


def _row_label(row, configured_alpha: float) -> str:
    if row["model"] != "joint":
        return BASELINE_LABELS[row["model"]]
    label = format_alpha(row["alpha"])
    return f"**{label}** (configured)" if row["alpha"] == configured_alpha else label


def render_sweep_markdown(table: pd.DataFrame, configured_alpha: float) -> str:
    """Per training condition: WER and accuracy at each alpha on clean and pooled noisy speech,
    then each alpha's difference from the configured alpha."""
    lines = [
        "# The joint model against its loss weight alpha",
        "",
        "Loss = alpha · L_SER + (1 − alpha) · L_CTC; the configured alpha "
        f"({format_alpha(configured_alpha)}) is the main run's joint model. Folds pooled; "
        "clean = the clean test set, noisy = the six noisy test conditions pooled (an "
        "utterance's six noisy versions are resampled together). Percent: "
        f"{_method(table)}. Baselines: the main run's ASR and SER models, for reference.",
        "",
    ]
    for train in TRAIN_CONDITIONS:
        part = table[table["train"] == train]
        if part.empty:
            continue
        lines += [
            f"## {TRAIN_LABELS[train]}",
            "",
            "| alpha | Seeds | WER clean | WER noisy | Accuracy clean | Accuracy noisy |",
            "|:---|:---:|---:|---:|---:|---:|",
        ]
        runs = part.drop_duplicates(["model", "alpha"])[["model", "alpha", "n_seeds"]]
        for run in runs.itertuples():
            same = (part["model"] == run.model) & (
                part["alpha"].isna() if pd.isna(run.alpha) else part["alpha"] == run.alpha
            )
            by_set = part[same].set_index("test_set")
            cells = [
                _cell(by_set.loc[test_set], metric) if test_set in by_set.index else "–"
                for metric in SWEEP_METRICS
                for test_set in TEST_SETS
            ]
            label = _row_label(by_set.iloc[0], configured_alpha)
            lines.append("| " + " | ".join([label, str(run.n_seeds), *cells]) + " |")
        lines += ["", *_difference_lines(part), ""]
    if (table.loc[table["model"] == "joint", "n_seeds"] > 1).any():
        lines += [f"Reference: {REFERENCE}", ""]
    return "\n".join(lines) + "\n"


def _difference_lines(part: pd.DataFrame) -> list[str]:
    tested = part[part["wer_p"].notna() | part["accuracy_p"].notna()]
    if tested.empty:
        return []
    lines = [
        "Each alpha against the configured alpha: Δ in points, > 0 = this alpha better "
        "(WER lower, accuracy higher); [CI]; p and p (Holm) over all of the sweep's comparisons "
        "of the metric.",
        "",
        "| alpha | Test set | WER Δ [CI] | p | p (Holm) | Accuracy Δ [CI] | p | p (Holm) |",
        "|:---|:---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in tested.itertuples():
        cells = []
        for metric in SWEEP_METRICS:
            delta, low, high, p, p_holm = (
                float(getattr(row, f"{metric}{suffix}"))
                for suffix in ("_delta", "_delta_ci_low", "_delta_ci_high", "_p", "_p_holm")
            )
            cells += [
                f"{_fmt(delta * 100, 2)} [{_fmt(low * 100, 2)}, {_fmt(high * 100, 2)}]",
                _format_p(p),
                _format_p(p_holm),
            ]
        lines.append(f"| {format_alpha(row.alpha)} | {row.test_set} | " + " | ".join(cells) + " |")
    return lines


def plot_alpha_sweep(table: pd.DataFrame, configured_alpha: float) -> Figure:
    """WER (top) and accuracy (bottom) against alpha, one column per training condition: clean
    and pooled noisy speech with CI error bars; the baselines as lines with CI bands."""
    fig = Figure(figsize=(12, 7.5), layout="constrained")
    # A third, thin row holds the legend: the series are the same in every panel.
    grid = fig.add_gridspec(3, len(TRAIN_CONDITIONS), height_ratios=[1, 1, 0.12])
    axes = np.array([[fig.add_subplot(grid[r, c]) for c in range(2)] for r in range(2)])
    joint = table[table["model"] == "joint"]
    alphas = np.sort(joint["alpha"].unique())
    for row, metric in enumerate(SWEEP_METRICS):
        for col, train in enumerate(TRAIN_CONDITIONS):
            ax = axes[row, col]
            for test_set in TEST_SETS:
                colour = SET_COLOURS[test_set]
                points = joint[(joint["train"] == train) & (joint["test_set"] == test_set)]
                points = points.sort_values("alpha")
                mean = points[metric].to_numpy(float) * 100.0
                low = points[f"{metric}_ci_low"].to_numpy(float) * 100.0
                high = points[f"{metric}_ci_high"].to_numpy(float) * 100.0
                if len(points):
                    x = points["alpha"].to_numpy(float)
                    ax.plot(x, mean, color=colour, marker="o", markersize=4, linewidth=1.2,
                            label=f"Joint, {SHORT_SET_LABELS[test_set]}")  # fmt: skip
                    # From low to high, whether or not the mean lies at the interval's centre.
                    ax.errorbar(x, (low + high) / 2, (high - low) / 2, fmt="none", ecolor=colour,
                                capsize=3, elinewidth=1.0)  # fmt: skip
                _baseline(ax, table, metric, train, test_set, colour)
            ax.axvline(configured_alpha, color="grey", linestyle=":", linewidth=1.0,
                       label=f"configured alpha = {format_alpha(configured_alpha)}")  # fmt: skip
            ax.grid(linewidth=0.4, alpha=0.6)
            ax.set_axisbelow(True)
            ax.set_title(f"{METRIC_LABELS[metric].split(' (')[0]}, {TRAIN_LABELS[train].lower()}",
                         fontsize=10)  # fmt: skip
            if col == 0:
                ax.set_ylabel(f"{METRIC_LABELS[metric]}, {BETTER[metric]}")
            if row == len(SWEEP_METRICS) - 1:
                ax.set_xlabel("alpha (weight of the SER loss)")
            ax.set_xticks(alphas, [format_alpha(a) for a in alphas], fontsize=8)
    handles = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    if handles:
        legend = fig.add_subplot(grid[2, :])
        legend.axis("off")
        legend.legend(handles.values(), handles.keys(), loc="center", ncols=3, fontsize=8,
                      frameon=False)  # fmt: skip
    fig.suptitle("Joint model against its loss weight alpha", fontsize=12)
    note = (
        f"Points: {_method(table)}. Dashed lines and bands: the main run's ASR baseline (WER) "
        "and SER baseline (accuracy), with their CIs."
    )
    fig.supxlabel(textwrap.fill(note, 160), fontsize=8)
    return fig


def _baseline(ax, table, metric: str, train: str, test_set: str, colour: str) -> None:
    model = BASELINE_OF_METRIC[metric]
    match = table[
        (table["model"] == model) & (table["train"] == train) & (table["test_set"] == test_set)
    ]
    if match.empty:
        return
    row = match.iloc[0]
    ax.axhline(row[metric] * 100.0, color=colour, linestyle="--", linewidth=1.0,
               label=f"Baseline, {SHORT_SET_LABELS[test_set]}")  # fmt: skip
    ax.axhspan(row[f"{metric}_ci_low"] * 100.0, row[f"{metric}_ci_high"] * 100.0, color=colour,
               alpha=0.12, linewidth=0)  # fmt: skip
