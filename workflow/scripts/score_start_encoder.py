"""Snakemake script: zero-shot WER/CER of the encoder the trainings start from, on clean speech.

input:  manifest (the clean corpus manifest); encoder (the demo encoder folder, when built here)
output: predictions (CSV), metrics (JSON: pooled and per-speaker WER and CER)
params: encoder (config encoder.name_or_path), device, max_batch_seconds
"""

from asrser.logs import job_log
from asrser.start_encoder import score_start_encoder

params = snakemake.params
with job_log(snakemake.log[0]):
    score_start_encoder(
        encoder_name_or_path=params.encoder,
        manifest_path=snakemake.input.manifest,
        predictions_path=snakemake.output.predictions,
        metrics_path=snakemake.output.metrics,
        device=params.device,
        threads=snakemake.threads,
        max_batch_seconds=float(params.max_batch_seconds),
    )
