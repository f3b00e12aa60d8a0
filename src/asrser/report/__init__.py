"""Results stage: pool the evaluations' predictions, score, test, tabulate and plot.

`write_results` is the one entry point of the workflow's aggregate step; the modules below do one
job each: `aggregate` (load and score predictions, significance), `table1` (Table 1 and the paper
comparison), `figures` (Fig. 2, per-fold spread, confusion matrices), `seeds` and `seed_table1`
(the same over several training seeds), `alpha_sweep` (the joint model against its loss weight).

With one training seed the outputs are those of a single run. With several, every per-run table
gains a seed column, metrics_over_seeds.csv summarises each run over its seeds, Table 1 shows
mean ± SD across seeds, significance comes from a hierarchical bootstrap over seeds and utterances
and Fig. 2 gets error bars (see `asrser.report.seeds`).
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
# Written besides TABLE_FILES when the predictions hold several training seeds.
SEED_TABLE_FILES = ("metrics_over_seeds.csv",)


def table_files(n_seeds: int) -> tuple[str, ...]:
    """The files write_results writes into tables_dir for predictions of `n_seeds` seeds."""
    return TABLE_FILES + (SEED_TABLE_FILES if n_seeds > 1 else ())


def write_results(
    prediction_paths: Iterable[str | Path],
    paper_table1_path: str | Path,
    tables_dir: str | Path,
    figures_dir: str | Path,
    n_resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
) -> list[Path]:
    """Score every predictions CSV of the main run (all its seeds) and write `table_files` and
    FIGURE_FILES; return their paths."""
    from asrser.report.aggregate import (
        confusion_counts,
        load_predictions,
        per_fold_metrics,
        pooled_metrics,
    )
    from asrser.report.figures import write_figures
    from asrser.report.seeds import seeds_in
    from asrser.report.significance import significance
    from asrser.report.table1 import load_paper_table1, table1_from_metrics
    from asrser.report.table1_render import write_table1

    tables_dir, figures_dir = Path(tables_dir), Path(figures_dir)
    paper = load_paper_table1(paper_table1_path)  # fail on a bad paper table before the work
    started = time.perf_counter()
    predictions = load_predictions(prediction_paths)
    swept = predictions["alpha"].notna()
    if swept.any():
        row = predictions.loc[swept].iloc[0]
        raise ValueError(
            f"{int(swept.sum())} predictions come from alpha-sweep runs (e.g. joint-{row['train']} "
            f"at alpha {row['alpha']:g}): Table 1 takes the main run's predictions only; the "
            "sweep's go to asrser.report.alpha_sweep.write_alpha_sweep"
        )
    seeds = seeds_in(predictions)
    log.info(
        "read %d predictions from %d evaluations, training seeds %s",
        len(predictions),
        predictions.groupby(["model", "train", "seed", "fold", "condition"]).ngroups,
        seeds,
    )
    if len(seeds) > 1:
        written = _write_results_over_seeds(
            predictions, paper, tables_dir, figures_dir, n_resamples, seed, alpha
        )
        log.info("wrote %d files in %.1f s", len(written), time.perf_counter() - started)
        return written
    # One seed: exactly the single-run results.
    predictions = predictions.drop(columns=["seed", "alpha"])
    metrics = pooled_metrics(predictions)
    per_fold = per_fold_metrics(predictions)
    confusion = confusion_counts(predictions)
    tests = significance(predictions, n_resamples=n_resamples, seed=seed, alpha=alpha)
    log.info("scored and tested in %.1f s", time.perf_counter() - started)

    written = _write_csvs(
        tables_dir,
        {
            "metrics.csv": metrics,
            "per_fold.csv": per_fold,
            "significance.csv": tests,
            "confusion.csv": confusion,
        },
    )
    written += write_table1(metrics, tests, paper, tables_dir, alpha).values()
    written += write_figures(
        table1_from_metrics(metrics), per_fold, metrics, confusion, figures_dir
    ).values()
    log.info("wrote %d files in %.1f s", len(written), time.perf_counter() - started)
    return written


def _write_results_over_seeds(
    predictions, paper, tables_dir: Path, figures_dir: Path, n_resamples: int, seed: int, alpha
) -> list[Path]:
    """write_results for predictions of several training seeds (see asrser.report.seeds)."""
    from asrser.report.figures import write_figures
    from asrser.report.seed_table1 import seeds_phrase, write_table1_over_seeds
    from asrser.report.seeds import (
        HIERARCHICAL_TEST,
        bootstrap_conditions,
        fig2_intervals,
        mean_over_seeds,
        per_seed_confusion,
        per_seed_fold_metrics,
        per_seed_metrics,
        seed_significance,
        seed_summary,
    )
    from asrser.report.table1 import table1_from_metrics

    started = time.perf_counter()
    per_seed = per_seed_metrics(predictions)
    per_fold = per_seed_fold_metrics(predictions)
    confusion = per_seed_confusion(predictions)
    boots = bootstrap_conditions(predictions, n_resamples, seed)
    tests = seed_significance(boots, alpha)
    summary = seed_summary(per_seed, boots, 1.0 - alpha)
    log.info("scored and tested in %.1f s", time.perf_counter() - started)

    written = _write_csvs(
        tables_dir,
        {
            "metrics.csv": per_seed,
            "per_fold.csv": per_fold,
            "significance.csv": tests,
            "confusion.csv": confusion,
            "metrics_over_seeds.csv": summary,
        },
    )
    written += write_table1_over_seeds(summary, tests, paper, tables_dir, alpha).values()
    seeds = seeds_phrase(summary, listed=False)
    keys = ["model", "train", "condition", "ref_emotion", "pred_emotion"]
    notes = {
        "fig2": (
            f"Bars: the change of the means over {seeds}. Error bars: {1 - alpha:.0%} "
            f"confidence interval of the change, {HIERARCHICAL_TEST}."
        ),
        "per_fold": f", mean over {seeds}",
        "confusion": f", summed over {seeds}",
    }
    written += write_figures(
        table1_from_metrics(summary),
        mean_over_seeds(per_fold, extra_keys=("fold",)),
        summary,
        confusion.groupby(keys, sort=False)["count"].sum().reset_index(),
        figures_dir,
        fig2_intervals={task: fig2_intervals(boots, task, 1.0 - alpha) for task in ("asr", "ser")},
        notes=notes,
    ).values()
    return written


def _write_csvs(tables_dir: Path, frames: dict) -> list[Path]:
    """Write each frame to tables_dir/name (atomically); return the paths in order."""
    from asrser.common.io import write_csv

    paths = []
    for name, frame in frames.items():
        write_csv(tables_dir / name, frame)
        paths.append(tables_dir / name)
    return paths
