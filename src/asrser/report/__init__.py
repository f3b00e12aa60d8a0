"""Results stage: pool the evaluations' predictions, score, test, tabulate and plot.

`write_results` is the one entry point of the workflow's aggregate step; the modules below do one
job each: `aggregate` (load and score predictions, significance), `table1` (Table 1 and the paper
comparison), `figures` (Fig. 2, per-fold spread, confusion matrices).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

# Files written by write_results, relative to tables_dir / figures_dir (for the workflow's rule).
TABLE_FILES = (
    "metrics.csv",
    "per_fold.csv",
    "significance.csv",
    "confusion.csv",
    "table1.csv",
    "table1.md",
    "table1.tex",
    "table1_vs_paper.md",
)
FIGURE_STEMS = (
    "fig2a_asr",
    "fig2b_ser",
    "per_fold",
    "per_fold_gain",
    "confusion_ser",
    "confusion_joint",
)
FIGURE_FILES = tuple(f"{stem}.{fmt}" for stem in FIGURE_STEMS for fmt in ("png", "pdf"))


def write_results(
    prediction_paths: Iterable[str | Path],
    paper_table1_path: str | Path,
    tables_dir: str | Path,
    figures_dir: str | Path,
    n_resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
) -> list[Path]:
    """Score every predictions CSV and write TABLE_FILES and FIGURE_FILES; return their paths."""
    from asrser.io import write_csv
    from asrser.report.aggregate import (
        confusion_counts,
        load_predictions,
        per_fold_metrics,
        pooled_metrics,
        significance,
    )
    from asrser.report.figures import write_figures
    from asrser.report.table1 import load_paper_table1, table1_from_metrics, write_table1

    tables_dir, figures_dir = Path(tables_dir), Path(figures_dir)
    paper = load_paper_table1(paper_table1_path)  # fail on a bad paper table before the work
    started = time.perf_counter()
    predictions = load_predictions(prediction_paths)
    log.info(
        "read %d predictions from %d evaluations",
        len(predictions),
        predictions.groupby(["model", "train", "fold", "condition"]).ngroups,
    )
    metrics = pooled_metrics(predictions)
    per_fold = per_fold_metrics(predictions)
    confusion = confusion_counts(predictions)
    tests = significance(predictions, n_resamples=n_resamples, seed=seed, alpha=alpha)
    log.info("scored and tested in %.1f s", time.perf_counter() - started)

    written = []
    for name, frame in (
        ("metrics.csv", metrics),
        ("per_fold.csv", per_fold),
        ("significance.csv", tests),
        ("confusion.csv", confusion),
    ):
        write_csv(tables_dir / name, frame)
        written.append(tables_dir / name)
    written += write_table1(metrics, tests, paper, tables_dir, alpha).values()
    written += write_figures(
        table1_from_metrics(metrics), per_fold, metrics, confusion, figures_dir
    ).values()
    log.info("wrote %d files in %.1f s", len(written), time.perf_counter() - started)
    return written
