"""Snakemake script: pool all evaluations into metrics, significance tests, Table 1 and figures.

input:  predictions  = every results/eval/{model}-{train}/{fold}/{condition}/predictions.csv
        paper_table1 = config/paper_table1.csv
output: any subset of asrser.report.TABLE_FILES under one folder (e.g. metrics=
        "results/tables/metrics.csv") and FIGURE_FILES under another (e.g. fig2a_asr_png=
        "results/figures/fig2a_asr.png"); the folders are taken from output.metrics and
        output.fig2a_asr_png, and every declared output must be among the files written.
params: bootstrap_resamples, seed, alpha  (config report.*)
"""

from pathlib import Path

from asrser.common.logs import job_log
from asrser.report import write_results

with job_log(snakemake.log[0]):
    written = write_results(
        prediction_paths=list(snakemake.input.predictions),
        paper_table1_path=snakemake.input.paper_table1,
        tables_dir=Path(snakemake.output.metrics).parent,
        figures_dir=Path(snakemake.output.fig2a_asr_png).parent,
        n_resamples=int(snakemake.params.bootstrap_resamples),
        seed=int(snakemake.params.seed),
        alpha=float(snakemake.params.alpha),
    )
    missing = {Path(p).resolve() for p in snakemake.output} - {p.resolve() for p in written}
    if missing:
        raise RuntimeError(f"declared outputs not written by write_results: {sorted(missing)}")
