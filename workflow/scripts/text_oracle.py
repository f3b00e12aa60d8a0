"""Snakemake script: joint models re-scored with reference transcripts fed to their BERT.

input:  the joint models, clean test manifests and clean predictions named in params.runs; bert
        (their BERT folder or files, reloaded offline; nothing for a packaged BERT)
output: csv (per training condition and fold), md (pooled over the folds)
params: runs (asrser.evaluation.text_oracle.text_oracle), device, max_batch_seconds
"""

from asrser.runtime.hub import work_offline

work_offline()  # before transformers is imported: this job never reaches the hub

from asrser.common.logs import job_log  # noqa: E402
from asrser.evaluation.text_oracle import text_oracle  # noqa: E402

params = snakemake.params
with job_log(snakemake.log[0]):
    text_oracle(
        runs=params.runs,
        out_csv=snakemake.output.csv,
        out_md=snakemake.output.md,
        device=params.device,
        threads=snakemake.threads,
        max_batch_seconds=float(params.max_batch_seconds),
    )
