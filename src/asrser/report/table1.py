"""Table 1 in the paper's layout, its renderings (CSV, Markdown, LaTeX) and the paper comparison.

Rows: the seven test conditions. Columns (named as in the paper's CSV, config/paper_table1.csv):
{asr_wer,ser_acc}_{clean,noise}_{baseline,joint,<improvement>} with train condition "noise" meaning
our "noisy" training set. The paper uses two conventions under one heading "Rel Imp":
  - ASR WER: relative improvement, (baseline - joint) / baseline * 100   (16.8 -> 15.0 gives 10.7);
  - SER accuracy: absolute difference in points, joint - baseline        (71.9 -> 74.2 gives 2.3).
Both are reproduced and labelled for what they are: "Rel. imp. (%)" and "Abs. imp. (pts)".

Values are percent. Our improvements are computed from unrounded WERs and accuracies, so they can
differ by a tenth or two from an improvement recomputed from the rounded cells; the paper's own
Table 1 shows the same effect (see `check_improvements`).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from asrser import TEST_CONDITIONS, TRAIN_CONDITIONS

CONDITION_LABELS = {
    "clean": "Clean",
    "noise15": "SNR 15 Noise",
    "noise5": "SNR 5 Noise",
    "music15": "SNR 15 Music",
    "music5": "SNR 5 Music",
    "speech15": "SNR 15 Speech",
    "speech5": "SNR 5 Speech",
}
# The paper's column names call the noisy training condition "noise".
TRAIN_COLUMN_NAMES = {"clean": "clean", "noisy": "noise"}
TRAIN_LABELS = {"clean": "Trained on Clean", "noisy": "Trained on Noise"}
TASK_PREFIX = {"asr": "asr_wer", "ser": "ser_acc"}
IMPROVEMENT_SUFFIX = {"asr": "rel_imp", "ser": "imp"}
IMPROVEMENT_LABELS = {"asr": "Rel. imp. (%)", "ser": "Abs. imp. (pts)"}
TASK_LABELS = {"asr": "ASR WER (%), lower is better", "ser": "SER accuracy (%), higher is better"}
TASK_METRIC = {"asr": "wer", "ser": "wa"}  # the pooled metric each task's cells hold
TASK_BASELINE = {"asr": "asr", "ser": "ser"}
PARTS = ("baseline", "joint", "improvement")
ROUNDING = 0.05  # half of the last printed digit


def column_name(task: str, train: str, part: str) -> str:
    """Paper CSV column of one cell, e.g. ('asr', 'noisy', 'improvement') -> asr_wer_noise_rel_imp."""
    suffix = IMPROVEMENT_SUFFIX[task] if part == "improvement" else part
    return f"{TASK_PREFIX[task]}_{TRAIN_COLUMN_NAMES[train]}_{suffix}"


TABLE1_COLUMNS = ("test_condition",) + tuple(
    column_name(task, train, part)
    for task in ("asr", "ser")
    for train in TRAIN_CONDITIONS
    for part in PARTS
)


def wer_relative_improvement(baseline, joint):
    """Relative WER reduction in percent: (baseline - joint) / baseline * 100."""
    baseline, joint = np.asarray(baseline, dtype=float), np.asarray(joint, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(baseline > 0, (baseline - joint) / baseline * 100.0, np.nan)


def accuracy_absolute_improvement(baseline, joint):
    """Accuracy gain in percentage points: joint - baseline."""
    return np.asarray(joint, dtype=float) - np.asarray(baseline, dtype=float)


IMPROVEMENT = {"asr": wer_relative_improvement, "ser": accuracy_absolute_improvement}


def add_improvements(table: pd.DataFrame) -> pd.DataFrame:
    """Return `table` with its four improvement columns computed from baseline and joint."""
    table = table.copy()
    for task in ("asr", "ser"):
        for train in TRAIN_CONDITIONS:
            baseline = table[column_name(task, train, "baseline")]
            joint = table[column_name(task, train, "joint")]
            table[column_name(task, train, "improvement")] = IMPROVEMENT[task](baseline, joint)
    return table[list(TABLE1_COLUMNS)]


def table1_from_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    """Table 1 (percent, unrounded) from pooled metrics; cells of missing evaluations are NaN."""
    table = pd.DataFrame({"test_condition": list(TEST_CONDITIONS)})
    indexed = metrics.set_index(["model", "train", "condition"])
    for task in ("asr", "ser"):
        for train in TRAIN_CONDITIONS:
            for part, model in (("baseline", TASK_BASELINE[task]), ("joint", "joint")):
                values = []
                for condition in TEST_CONDITIONS:
                    key = (model, train, condition)
                    value = indexed.at[key, TASK_METRIC[task]] if key in indexed.index else np.nan
                    values.append(float(value) * 100.0)
                table[column_name(task, train, part)] = values
    return add_improvements(table)


def load_paper_table1(path: str | Path) -> pd.DataFrame:
    """The paper's Table 1 as kept by the project (config/paper_table1.csv), validated."""
    table = pd.read_csv(path)
    missing = [c for c in TABLE1_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected {list(TABLE1_COLUMNS)}")
    if list(table["test_condition"]) != list(TEST_CONDITIONS):
        raise ValueError(
            f"{path}: test_condition rows are {list(table['test_condition'])}, "
            f"expected {list(TEST_CONDITIONS)}"
        )
    return table[list(TABLE1_COLUMNS)]


def round_half_up(value: float, decimals: int = 1) -> float:
    """`value` rounded as a reader rounds the decimal it stands for: accuracies are k / n, so a
    cell such as 50.75 is common, and binary floating point holds it as 50.7499999... (which
    plain rounding takes down, while 57.75 goes up)."""
    if value is None or not math.isfinite(value):
        return value
    exact = Decimal(repr(round(value, 9)))  # the float's noise below 1e-9 dropped
    return float(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def rounded(table: pd.DataFrame, decimals: int = 1) -> pd.DataFrame:
    values = table.drop(columns="test_condition").astype(float)
    values = values.map(lambda value: round_half_up(value, decimals))
    return pd.concat([table[["test_condition"]], values], axis=1)


def check_improvements(table: pd.DataFrame, decimals: int = 1) -> pd.DataFrame:
    """Recompute every improvement cell of a printed (rounded) table and compare.

    For each of the 28 improvement cells: `recomputed` from the printed baseline and joint, and the
    range [`lowest`, `highest`] an improvement can take when baseline and joint are anything that
    rounds to the printed values. `within_tolerance`: |stated - recomputed| <= one last digit;
    `consistent_with_rounding`: the stated value (itself rounded) is reachable from some unrounded
    inputs, i.e. the cell can be explained by the authors computing from unrounded numbers.
    """
    half = 0.5 * 10.0 ** (-decimals)
    rows = []
    for task in ("asr", "ser"):
        for train in TRAIN_CONDITIONS:
            column = column_name(task, train, "improvement")
            for _, row in table.iterrows():
                base = float(row[column_name(task, train, "baseline")])
                joint = float(row[column_name(task, train, "joint")])
                stated = float(row[column])
                recomputed = float(IMPROVEMENT[task](base, joint))
                if task == "asr":
                    lowest = float(wer_relative_improvement(base - half, joint + half))
                    highest = float(wer_relative_improvement(base + half, joint - half))
                else:
                    lowest = float(accuracy_absolute_improvement(base + half, joint - half))
                    highest = float(accuracy_absolute_improvement(base - half, joint + half))
                rows.append(
                    {
                        "column": column,
                        "test_condition": row["test_condition"],
                        "baseline": base,
                        "joint": joint,
                        "stated": stated,
                        "recomputed": recomputed,
                        "difference": stated - recomputed,
                        "lowest": lowest,
                        "highest": highest,
                        "within_tolerance": abs(stated - recomputed) <= 2 * half + 1e-9,
                        "consistent_with_rounding": (
                            lowest - half - 1e-9 <= stated <= highest + half + 1e-9
                        ),
                    }
                )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- rendering


def _significant_cells(significance: pd.DataFrame | None) -> set[tuple[str, str]]:
    """(improvement column, condition) of every cell whose joint-vs-baseline test has p < alpha."""
    if significance is None or significance.empty:
        return set()
    marked = significance[significance["significant"].astype(bool)]
    return {
        (column_name(row.task, row.train, "improvement"), row.condition)
        for row in marked.itertuples()
    }


def _fmt(value: float, decimals: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    text = f"{round_half_up(value, decimals):.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text  # no "-0.0"


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
    cells = _header_cells()
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
    for _, row in table.iterrows():
        values = [CONDITION_LABELS[row["test_condition"]]]
        for column, *_ in cells:
            text = _fmt(row[column])
            if (column, row["test_condition"]) in marks:
                text = f"**{text}**†"
            values.append(text)
        lines.append("| " + " | ".join(values) + " |")
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
        relative = _fmt(row.relative_delta * 100.0) if row.task == "asr" else ""
        relative_ci = (
            f"[{_fmt(row.relative_ci_low * 100.0)}, {_fmt(row.relative_ci_high * 100.0)}]"
            if row.task == "asr"
            else ""
        )
        lines.append(
            "| "
            + " | ".join(
                [
                    "ASR (WER)" if row.task == "asr" else "SER (accuracy)",
                    TRAIN_LABELS[row.train].removeprefix("Trained on "),
                    CONDITION_LABELS[row.condition],
                    _fmt(row.baseline * 100.0),
                    _fmt(row.joint * 100.0),
                    _fmt(row.delta * 100.0, 2),
                    f"[{_fmt(row.ci_low * 100.0, 2)}, {_fmt(row.ci_high * 100.0, 2)}]",
                    relative,
                    relative_ci,
                    _format_p(row.p_value),
                    "†" if row.significant else "",
                    _format_p(row.p_holm),
                ]
            )
            + " |"
        )
    return lines + [""]


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
    cells = _header_cells()
    caption = (
        r"ASR WER and SER accuracy (\%) of the baseline and joint models, pooled over "
        + folds_phrase(folds)
        + r". WER improvement is relative, $(b - j)/b \times 100$; accuracy "
        r"improvement is absolute, $j - b$ in points."
    )
    lines = _latex_head(caption)
    for _, row in table.iterrows():
        values = [CONDITION_LABELS[row["test_condition"]]]
        for column, *_ in cells:
            text = _latex_number(row[column])
            if (column, row["test_condition"]) in marks:
                text = rf"\textbf{{{text}}}$^\dagger$"
            values.append(text)
        lines.append(" & ".join(values) + r" \\")
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


def render_comparison(ours: pd.DataFrame, paper: pd.DataFrame, note: str = "") -> str:
    """Markdown: our Table 1 beside the paper's, cell by cell, with ours − paper; `note`, if any,
    follows the introduction (what our cells are, when they are not one run's)."""
    lines = [
        "# Table 1: this run beside the paper",
        "",
        "Each block is one column group of the paper's Table 1; Δ = ours − paper. Ours are rounded "
        "to one decimal as printed in table1.csv. WER improvement is relative (%), accuracy "
        "improvement absolute (points), as in the paper.",
        "",
        *([note, ""] if note else []),
    ]
    ours, paper = rounded(ours), rounded(paper)
    for task in ("asr", "ser"):
        for train in TRAIN_CONDITIONS:
            improvement = IMPROVEMENT_LABELS[task]
            lines += [
                f"## {TASK_LABELS[task]}, {TRAIN_LABELS[train].lower()}",
                "",
                "| Test condition | Baseline ours | paper | Δ | Joint ours | paper | Δ "
                f"| {improvement} ours | paper | Δ |",
                "|:---|" + "---:|" * 9,
            ]
            gaps = {part: [] for part in PARTS}
            for condition in TEST_CONDITIONS:
                values = [CONDITION_LABELS[condition]]
                for part in PARTS:
                    column = column_name(task, train, part)
                    mine = _cell(ours, column, condition)
                    theirs = _cell(paper, column, condition)
                    gap = mine - theirs
                    gaps[part].append(gap)
                    values += [_fmt(mine), _fmt(theirs), _fmt(gap)]
                lines.append("| " + " | ".join(values) + " |")
            mean_gap = ["**Mean \\|Δ\\|**"]
            for part in PARTS:
                finite = [abs(g) for g in gaps[part] if math.isfinite(g)]
                mean_gap += ["", "", _fmt(sum(finite) / len(finite)) if finite else "–"]
            lines += ["| " + " | ".join(mean_gap) + " |", ""]
    lines += _paper_consistency_notes(paper)
    return "\n".join(lines) + "\n"


def _cell(table: pd.DataFrame, column: str, condition: str) -> float:
    values = table.loc[table["test_condition"] == condition, column]
    return float(values.iloc[0]) if len(values) else float("nan")


def _paper_consistency_notes(paper: pd.DataFrame) -> list[str]:
    checks = check_improvements(paper)
    off = checks[~checks["within_tolerance"]]
    lines = [
        "## Notes on the paper's Table 1",
        "",
        '- The paper\'s SER "Rel Imp" is the absolute difference in accuracy points '
        '(71.9 → 74.2 gives 2.3; relative would be 3.2); its WER "Rel Imp" is relative.',
    ]
    if off.empty:
        lines.append("- Every improvement cell matches its baseline and joint cells within 0.1.")
    else:
        lines.append(
            f"- {len(off)} of {len(checks)} improvement cells differ by more than 0.1 from the "
            "value recomputed from the printed baseline and joint:"
        )
        for row in off.itertuples():
            verdict = (
                "reachable from unrounded inputs"
                if row.consistent_with_rounding
                else "NOT reachable from any inputs that round to the printed cells"
            )
            lines.append(
                f"  - {row.column}, {CONDITION_LABELS[row.test_condition]}: "
                f"{row.baseline:.1f} → {row.joint:.1f} recomputes to {row.recomputed:.2f}, "
                f"paper says {row.stated:.1f} (possible range {row.lowest:.2f} to "
                f"{row.highest:.2f}; {verdict})."
            )
    lines.append(_section5_note(paper))
    return lines + [""]


def _section5_note(paper: pd.DataFrame) -> str:
    """The paper's analysis quotes SER gains (9.9 %, 5.2 %) that its Table 1 does not hold."""

    def gaps(condition: str) -> tuple[float, float]:
        joint_noise = _cell(paper, "ser_acc_noise_joint", condition)
        return (
            joint_noise - _cell(paper, "ser_acc_clean_joint", condition),
            joint_noise - _cell(paper, "ser_acc_noise_baseline", condition),
        )

    noise5, speech5 = gaps("noise5"), gaps("speech5")
    return (
        "- Section 5 of the paper says that at SNR 5 Noise the noise-trained joint SER model "
        "outperforms the clean-trained joint model by 9.9 % and the noise-trained baseline by "
        f"5.2 %. Its Table 1 gives {noise5[0]:.1f} and {noise5[1]:.1f} points there; at SNR 5 "
        f"Speech the same gaps are {speech5[0]:.1f} and {speech5[1]:.1f} points, so the text "
        "probably refers to SNR 5 Speech (5.2 is no difference, absolute or relative, between "
        "two SER cells of any row)."
    )


def write_table1(
    metrics: pd.DataFrame,
    significance: pd.DataFrame | None,
    paper: pd.DataFrame,
    tables_dir: str | Path,
    alpha: float = 0.05,
) -> dict[str, Path]:
    """Write table1.{csv,md,tex} and table1_vs_paper.md into `tables_dir`; return the paths."""
    from asrser.common.io import write_csv, write_text

    tables_dir = Path(tables_dir)
    table = table1_from_metrics(metrics)
    paths = {
        "table1_csv": tables_dir / "table1.csv",
        "table1_md": tables_dir / "table1.md",
        "table1_tex": tables_dir / "table1.tex",
        "table1_vs_paper": tables_dir / "table1_vs_paper.md",
    }
    write_csv(paths["table1_csv"], rounded(table))
    folds = int(metrics["n_folds"].max()) if len(metrics) else 0
    write_text(paths["table1_md"], render_markdown(table, significance, alpha, folds))
    write_text(paths["table1_tex"], render_latex(table, significance, alpha, folds))
    write_text(paths["table1_vs_paper"], render_comparison(table, paper))
    return paths
