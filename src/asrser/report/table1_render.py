"""Table 1 rendered: Markdown and LaTeX with the significance marks, and the files written."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from asrser import TRAIN_CONDITIONS
from asrser.report.table1 import (
    CONDITION_LABELS,
    IMPROVEMENT_LABELS,
    PARTS,
    TASK_LABELS,
    TRAIN_LABELS,
    _fmt,
    column_name,
    rounded,
    table1_from_metrics,
)
from asrser.report.table1_vs_paper import render_comparison


def _significant_cells(significance: pd.DataFrame | None) -> set[tuple[str, str]]:
    """(improvement column, condition) of every cell whose joint-vs-baseline test has p < alpha."""
    if significance is None or significance.empty:
        return set()
    marked = significance[significance["significant"].astype(bool)]
    return {
        (column_name(row.task, row.train, "improvement"), row.condition)
        for row in marked.itertuples()
    }


def _header_cells() -> list[tuple[str, str, str, str]]:
    """(column, task, train, part label) for the twelve value columns, in table order."""
    cells = []
    for task in ("asr", "ser"):
        for train in TRAIN_CONDITIONS:
            for part in PARTS:
                label = IMPROVEMENT_LABELS[task] if part == "improvement" else part.capitalize()
                cells.append((column_name(task, train, part), task, train, label))
    return cells


def _test_footnote(significance: pd.DataFrame | None, alpha: float) -> str:
    resamples = ""
    if significance is not None and not significance.empty:
        resamples = f", {int(significance['n_resamples'].iloc[0]):,} resamples"
    return (
        f"joint differs from the baseline of the same training condition at alpha = {alpha:g} "
        f"(two-sided). WER: paired bootstrap over utterances pooling errors and reference words "
        f"(Bisani & Ney 2004{resamples}). Accuracy: exact McNemar test. "
        "Each cell is tested on its own; p (Holm) in the table below adjusts each task's cells "
        "as one family (Holm 1979). Confidence intervals and p-values: significance.csv."
    )


def folds_phrase(folds: int) -> str:
    """ "the ten folds", "the 12 folds", "the one fold": how many the numbers are pooled over."""
    words = dict(enumerate(("no", "one", "two", "three", "four", "five", "six", "seven",
                            "eight", "nine", "ten")))  # fmt: skip
    return f"the {words.get(folds, str(folds))} fold{'s' if folds != 1 else ''}"


def render_markdown(
    table: pd.DataFrame,
    significance: pd.DataFrame | None = None,
    alpha: float = 0.05,
    folds: int = 10,
) -> str:
    """Table 1 as a Markdown pipe table (significant improvements marked †) plus the tests."""
    marks = _significant_cells(significance)
    lines = [
        "# Table 1: ASR and SER under noise, baseline vs joint model",
        "",
        f"Pooled over {folds_phrase(folds)} (held-out speakers). WER and accuracy in percent. "
        "WER improvement is relative: (baseline − joint) / baseline × 100; accuracy improvement "
        'is absolute: joint − baseline in percentage points (the paper labels both "Rel Imp"). '
        'Improvements are computed from unrounded values. "noise-tr." = trained on the noisy '
        'training set, "clean-tr." = trained on clean IEMOCAP.',
        "",
        *_markdown_head(),
    ]
    lines += body_rows(table, marks)
    lines += ["", "† (bold) " + _test_footnote(significance, alpha), ""]
    if significance is not None and not significance.empty:
        lines += _significance_markdown(significance)
    return "\n".join(lines) + "\n"


def _markdown_head() -> list[str]:
    """The pipe table's header row and alignment row."""
    short_task = {"asr": "WER", "ser": "Acc."}
    short_train = {"clean": "clean-tr.", "noisy": "noise-tr."}
    cells = _header_cells()
    header = ["Test condition"] + [
        f"{short_task[task]} {short_train[train]} {label}" for _, task, train, label in cells
    ]
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join([":---"] + ["---:"] * len(cells)) + "|",
    ]


def _significance_markdown(significance: pd.DataFrame) -> list[str]:
    lines = [
        "## Joint vs baseline: differences, confidence intervals, p-values",
        "",
        "Δ > 0 means the joint model is better. WER Δ = baseline − joint WER (points) and relative "
        "Δ = Δ / baseline WER; accuracy Δ = joint − baseline (points). CIs are percentile "
        "intervals of a paired bootstrap over utterances.",
        "",
        "| Task | Trained on | Test condition | Baseline | Joint | Δ (pts) | CI | Rel. Δ (%) | CI | p "
        "| | p (Holm) |",
        "|:---|:---|:---|---:|---:|---:|:---:|---:|:---:|---:|:---:|---:|",
    ]
    for row in significance.itertuples():
        lines.append(
            significance_line(
                row,
                [
                    _fmt(row.baseline * 100.0),
                    _fmt(row.joint * 100.0),
                    *delta_cells(row),
                ],
            )
        )
    return lines + [""]


def delta_cells(row) -> list[str]:
    """Δ, its CI, and (WER only) relative Δ and its CI, in percent, of one significance row."""
    asr = row.task == "asr"
    return [
        _fmt(row.delta * 100.0, 2),
        f"[{_fmt(row.ci_low * 100.0, 2)}, {_fmt(row.ci_high * 100.0, 2)}]",
        _fmt(row.relative_delta * 100.0) if asr else "",
        f"[{_fmt(row.relative_ci_low * 100.0)}, {_fmt(row.relative_ci_high * 100.0)}]"
        if asr
        else "",
    ]


def significance_line(row, middle: list[str]) -> str:
    """One pipe-table row of the significance section: the cell's task, training and test
    condition, then `middle`, then p, its mark and p (Holm)."""
    cells = [
        "ASR (WER)" if row.task == "asr" else "SER (accuracy)",
        TRAIN_LABELS[row.train].removeprefix("Trained on "),
        CONDITION_LABELS[row.condition],
        *middle,
        _format_p(row.p_value),
        "†" if row.significant else "",
        _format_p(row.p_holm),
    ]
    return "| " + " | ".join(cells) + " |"


def cell_text(mean: float, sd: float = math.nan, latex: bool = False) -> str:
    """A Table 1 value, with "± SD" across seeds where the SD is known."""
    text = _latex_number(mean) if latex else _fmt(mean)
    if not math.isfinite(mean) or not math.isfinite(sd):
        return text
    return text + (rf"\,{{\scriptsize$\pm${_fmt(sd)}}}" if latex else f" ± {_fmt(sd)}")


def body_rows(
    table: pd.DataFrame,
    marks: set[tuple[str, str]],
    latex: bool = False,
    spread: pd.DataFrame | None = None,
) -> list[str]:
    """One Markdown or LaTeX row per test condition; `spread` (same layout) adds "± SD" to
    each value and significant improvements are marked bold with †."""
    if spread is not None and len(spread) != len(table):
        raise ValueError(f"spread has {len(spread)} rows, the table {len(table)}")
    lines = []
    for index, (_, row) in enumerate(table.iterrows()):
        values = [CONDITION_LABELS[row["test_condition"]]]
        for column, *_ in _header_cells():
            sd = float(spread.iloc[index][column]) if spread is not None else math.nan
            text = cell_text(row[column], sd, latex)
            if (column, row["test_condition"]) in marks:
                text = rf"\textbf{{{text}}}$^\dagger$" if latex else f"**{text}**†"
            values.append(text)
        lines.append(" & ".join(values) + r" \\" if latex else "| " + " | ".join(values) + " |")
    return lines


def _format_p(p: float) -> str:
    if not math.isfinite(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _latex_number(value: float) -> str:
    text = _fmt(value)
    return text.replace("-", "$-$", 1) if text.startswith("-") else text


def render_latex(
    table: pd.DataFrame,
    significance: pd.DataFrame | None = None,
    alpha: float = 0.05,
    folds: int = 10,
) -> str:
    """Table 1 as a booktabs LaTeX table with the paper's two-level header."""
    marks = _significant_cells(significance)
    caption = (
        r"ASR WER and SER accuracy (\%) of the baseline and joint models, pooled over "
        + folds_phrase(folds)
        + r". WER improvement is relative, $(b - j)/b \times 100$; accuracy "
        r"improvement is absolute, $j - b$ in points."
    )
    lines = _latex_head(caption) + body_rows(table, marks, latex=True)
    footnote = _test_footnote(significance, alpha).replace("&", r"\&").replace("_", r"\_")
    return "\n".join(_latex_tail(lines, footnote)) + "\n"


def _latex_tail(lines: list[str], footnote: str) -> list[str]:
    return lines + [
        r"\bottomrule",
        r"\end{tabular}",
        "",
        r"\smallskip\footnotesize $^\dagger$ Bold: " + footnote,
        r"\end{table*}",
    ]


def _latex_head(caption: str, tabcolsep: str = "4pt") -> list[str]:
    r"""From the comment line to \midrule: the caption and the paper's two-level header."""
    cells = _header_cells()
    task_header = " & ".join(
        rf"\multicolumn{{6}}{{c}}{{{TASK_LABELS[task].replace('%', chr(92) + '%')}}}"
        for task in ("asr", "ser")
    )
    train_header = " & ".join(
        rf"\multicolumn{{3}}{{c}}{{{TRAIN_LABELS[train]}}}"
        for _task in ("asr", "ser")
        for train in TRAIN_CONDITIONS
    )
    part_header = " & ".join(label.replace("%", r"\%") for *_, label in cells)
    return [
        r"% Generated by asrser.report.table1; requires \usepackage{booktabs}.",
        r"\begin{table*}[t]",
        r"\centering",
        r"\caption{" + caption + "}",
        r"\label{tab:table1}",
        r"\setlength{\tabcolsep}{" + tabcolsep + "}",
        r"\begin{tabular}{l" + " rrr" * 4 + "}",
        r"\toprule",
        " & " + task_header + r" \\",
        r"\cmidrule(lr){2-7}\cmidrule(lr){8-13}",
        " & " + train_header + r" \\",
        r"\cmidrule(lr){2-4}\cmidrule(lr){5-7}\cmidrule(lr){8-10}\cmidrule(lr){11-13}",
        "Test condition & " + part_header + r" \\",
        r"\midrule",
    ]


def write_table1(
    metrics: pd.DataFrame,
    significance: pd.DataFrame | None,
    paper: pd.DataFrame,
    tables_dir: str | Path,
    alpha: float = 0.05,
) -> dict[str, Path]:
    """Write table1.{csv,md,tex} and table1_vs_paper.md into `tables_dir`; return the paths."""
    table = table1_from_metrics(metrics)
    folds = int(metrics["n_folds"].max()) if len(metrics) else 0
    return write_table1_files(
        tables_dir,
        table,
        render_markdown(table, significance, alpha, folds),
        render_latex(table, significance, alpha, folds),
        render_comparison(table, paper),
    )


def write_table1_files(
    tables_dir: str | Path, table: pd.DataFrame, markdown: str, latex: str, comparison: str
) -> dict[str, Path]:
    """Write table1.csv (rounded `table`), table1.md, table1.tex and table1_vs_paper.md, each
    atomically; return their paths by name."""
    from asrser.common.io import write_csv, write_text

    tables_dir = Path(tables_dir)
    paths = {
        "table1_csv": tables_dir / "table1.csv",
        "table1_md": tables_dir / "table1.md",
        "table1_tex": tables_dir / "table1.tex",
        "table1_vs_paper": tables_dir / "table1_vs_paper.md",
    }
    write_csv(paths["table1_csv"], rounded(table))
    write_text(paths["table1_md"], markdown)
    write_text(paths["table1_tex"], latex)
    write_text(paths["table1_vs_paper"], comparison)
    return paths
