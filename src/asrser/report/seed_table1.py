"""Table 1 over several training seeds: mean ± SD cells, hierarchical tests, the paper comparison.

The layout, columns and improvement conventions are Table 1's (`asrser.report.table1`); table1.csv
keeps its columns and holds the means over seeds. Each baseline and joint cell of table1.md and
table1.tex reads "mean ± SD": the mean over seeds of the figure pooled over the folds, and the
standard deviation across seeds with an n - 1 denominator (the SD of one more training, not the
standard error of the mean). Improvements are computed from the two means. The seeds' min-max
and the bootstrap CI of each mean are in metrics_over_seeds.csv; the CI of every improvement, its
p-value and the range of the gain over all pairings of a baseline seed with a joint seed are in
the significance section and significance.csv.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from asrser import TEST_CONDITIONS, TRAIN_CONDITIONS
from asrser.report.hierarchical_bootstrap import REFERENCE
from asrser.report.table1 import (
    TASK_BASELINE,
    _fmt,
    column_name,
    table1_from_metrics,
)
from asrser.report.table1_render import (
    _latex_head,
    _latex_tail,
    _markdown_head,
    _significant_cells,
    body_rows,
    cell_text,
    delta_cells,
    folds_phrase,
    significance_line,
    write_table1_files,
)

CELL_METRIC = {"asr": "wer", "ser": "wa"}


def spread_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Table 1's layout holding the SD across seeds (percent) of each baseline and joint cell;
    NaN in the improvement columns and where a cell has one seed or none."""
    table = pd.DataFrame({"test_condition": list(TEST_CONDITIONS)})
    indexed = summary.set_index(["model", "train", "condition"])
    for task in ("asr", "ser"):
        for train in TRAIN_CONDITIONS:
            for part, model in (("baseline", TASK_BASELINE[task]), ("joint", "joint")):
                sd_column = f"{CELL_METRIC[task]}_sd"
                table[column_name(task, train, part)] = [
                    float(indexed.at[(model, train, c), sd_column]) * 100.0
                    if (model, train, c) in indexed.index
                    else np.nan
                    for c in TEST_CONDITIONS
                ]
            table[column_name(task, train, "improvement")] = np.nan
    return table


def seeds_phrase(summary: pd.DataFrame, listed: bool = True) -> str:
    """'3 training seeds (0, 1, 2)', or '2 to 3 training seeds (0, 1, 2) per cell'."""
    counts = summary["n_seeds"].astype(int)
    seeds = sorted({int(s) for text in summary["seeds"] for s in str(text).split()})
    which = f" ({', '.join(str(s) for s in seeds)})" if listed else ""
    if counts.min() == counts.max():
        n = int(counts.iloc[0])
        return f"{n} training seed{'s' if n != 1 else ''}{which}"
    return f"{counts.min()} to {counts.max()} training seeds{which} per cell"


def _test_footnote(significance: pd.DataFrame | None, alpha: float) -> str:
    resamples = ""
    if significance is not None and not significance.empty:
        resamples = f"; {int(significance['n_resamples'].iloc[0]):,} resamples"
    return (
        f"joint differs from the baseline of the same training condition at alpha = {alpha:g} "
        "(two-sided), by a hierarchical bootstrap over training seeds and test utterances "
        f"(Saravanan, Berman & Sober 2020{resamples}): each resample draws each model's seeds "
        "with replacement, independently for the two models, and one set of utterances with "
        "replacement shared by both, and compares the means over the drawn seeds of the pooled "
        "figures. Each cell is tested on its own; p (Holm) in the table below adjusts each "
        "task's cells as one family (Holm 1979). Confidence intervals and p-values: "
        "significance.csv."
    )


def _intro(summary: pd.DataFrame, folds: int) -> str:
    return (
        f"Each cell: the mean over {seeds_phrase(summary)} of the figure pooled over "
        f"{folds_phrase(folds)} (held-out speakers), ± the standard deviation across seeds "
        "(n − 1 denominator); the seeds' min–max and the confidence interval of each mean are "
        "in metrics_over_seeds.csv. WER and accuracy in percent. WER improvement is relative: "
        "(baseline − joint) / baseline × 100; accuracy improvement is absolute: joint − "
        'baseline in percentage points (the paper labels both "Rel Imp"); both are computed '
        'from the unrounded means. "noise-tr." = trained on the noisy training set, '
        '"clean-tr." = trained on clean IEMOCAP.'
    )


def render_markdown_over_seeds(
    table: pd.DataFrame,
    spread: pd.DataFrame,
    summary: pd.DataFrame,
    significance: pd.DataFrame | None = None,
    alpha: float = 0.05,
    folds: int = 10,
) -> str:
    """Table 1 over seeds as a Markdown pipe table, plus the hierarchical tests."""
    marks = _significant_cells(significance)
    lines = [
        "# Table 1: ASR and SER under noise, baseline vs joint model, over training seeds",
        "",
        _intro(summary, folds),
        "",
        *_markdown_head(),
    ]
    lines += body_rows(table, marks, spread=spread)
    lines += ["", "† (bold) " + _test_footnote(significance, alpha), ""]
    if significance is not None and not significance.empty:
        lines += _significance_markdown(significance)
    lines += [f"Reference: {REFERENCE}", ""]
    return "\n".join(lines) + "\n"


def _significance_markdown(significance: pd.DataFrame) -> list[str]:
    lines = [
        "## Joint vs baseline over seeds: differences, confidence intervals, p-values",
        "",
        "Δ > 0 means the joint model is better. Baseline and joint: mean ± SD across seeds (%). "
        "WER Δ = baseline − joint WER (points) and relative Δ = Δ / baseline WER; accuracy Δ = "
        "joint − baseline (points). CIs are percentile intervals of the hierarchical bootstrap. "
        "Seed pairs: the smallest and largest Δ of one baseline seed against one joint seed, "
        "over all pairings.",
        "",
        "| Task | Trained on | Test condition | Seeds (b / j) | Baseline | Joint | Δ (pts) | CI "
        "| Rel. Δ (%) | CI | Seed pairs Δ | p | | p (Holm) |",
        "|:---|:---|:---|:---:|---:|---:|---:|:---:|---:|:---:|:---:|---:|:---:|---:|",
    ]
    for row in significance.itertuples():
        middle = [
            f"{row.n_seeds_baseline} / {row.n_seeds_joint}",
            cell_text(row.baseline * 100.0, row.baseline_sd * 100.0),
            cell_text(row.joint * 100.0, row.joint_sd * 100.0),
            *delta_cells(row),
            f"[{_fmt(row.pair_delta_min * 100.0, 2)}, {_fmt(row.pair_delta_max * 100.0, 2)}]",
        ]
        lines.append(significance_line(row, middle))
    return lines + [""]


def render_latex_over_seeds(
    table: pd.DataFrame,
    spread: pd.DataFrame,
    summary: pd.DataFrame,
    significance: pd.DataFrame | None = None,
    alpha: float = 0.05,
    folds: int = 10,
) -> str:
    """Table 1 over seeds as a booktabs LaTeX table: cells mean ± SD across seeds."""
    marks = _significant_cells(significance)
    caption = (
        r"ASR WER and SER accuracy (\%) of the baseline and joint models: mean $\pm$ SD "
        f"(n $-$ 1) over {seeds_phrase(summary)} of the figure pooled over "
        + folds_phrase(folds)
        + r". WER improvement is relative, $(b - j)/b \times 100$; accuracy improvement is "
        r"absolute, $j - b$ in points; both from the means."
    )
    lines = _latex_head(caption, tabcolsep="2pt") + body_rows(table, marks, True, spread)
    footnote = f"{_test_footnote(significance, alpha)} {REFERENCE}"
    footnote = footnote.replace("&", r"\&").replace("_", r"\_")
    return "\n".join(_latex_tail(lines, footnote)) + "\n"


def write_table1_over_seeds(
    summary: pd.DataFrame,
    significance: pd.DataFrame | None,
    paper: pd.DataFrame,
    tables_dir: str | Path,
    alpha: float = 0.05,
) -> dict[str, Path]:
    """Write table1.{csv,md,tex} and table1_vs_paper.md from `seeds.seed_summary`'s frame."""
    from asrser.report.table1_vs_paper import render_comparison

    table, spread = table1_from_metrics(summary), spread_table(summary)
    folds = int(summary["n_folds"].max()) if len(summary) else 0
    note = (
        f"Ours are means over {seeds_phrase(summary)}; their spread is in table1.md and "
        "metrics_over_seeds.csv."
    )
    return write_table1_files(
        tables_dir,
        table,
        render_markdown_over_seeds(table, spread, summary, significance, alpha, folds),
        render_latex_over_seeds(table, spread, summary, significance, alpha, folds),
        render_comparison(table, paper, note=note),
    )
