"""Table 1 in the paper's layout: its cells from the pooled metrics, rounding and improvements.

Rendered as Markdown and LaTeX by asrser.report.table1_render; set beside the paper's by
asrser.report.table1_vs_paper.

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


def _fmt(value: float, decimals: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    text = f"{round_half_up(value, decimals):.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text  # no "-0.0"
