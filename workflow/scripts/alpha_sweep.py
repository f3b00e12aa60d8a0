"""Snakemake script: the joint model's WER and accuracy against its loss weight alpha.

input:  predictions = every predictions CSV of the sweep's joint runs (results/eval/joint-{train}
        -alpha{a}[-seed{s}]/...), of the main run's joint runs (the configured alpha's point) and
        of the main run's baselines (reference lines), every seed
output: csv, md (under results/tables), png, pdf (under results/figures)
params: alphas (config alpha_sweep.alphas), configured_alpha (the main run's), bootstrap_resamples,
        seed, significance_level (config report.*)
"""

from pathlib import Path

from asrser.common.logs import job_log
from asrser.report.alpha_sweep import write_alpha_sweep

params = snakemake.params
with job_log(snakemake.log[0]):
    written = write_alpha_sweep(
        prediction_paths=list(snakemake.input.predictions),
        configured_alpha=float(params.configured_alpha),
        tables_dir=Path(snakemake.output.csv).parent,
        figures_dir=Path(snakemake.output.png).parent,
        n_resamples=int(params.bootstrap_resamples),
        seed=int(params.seed),
        significance_level=float(params.significance_level),
        expected_alphas=[float(alpha) for alpha in params.alphas],
    )
    missing = {Path(p).resolve() for p in snakemake.output} - {p.resolve() for p in written}
    if missing:
        raise RuntimeError(f"declared outputs not written by write_alpha_sweep: {sorted(missing)}")
