"""Snakemake script: zero-shot WER/CER of the encoder the trainings start from, on clean speech.

input:  manifest (the clean corpus manifest); encoder (the demo encoder folder, when built here,
        a hub encoder's folder in models_dir, or a local encoder folder's files)
output: predictions (CSV), metrics (JSON: pooled and per-speaker WER and CER)
params: encoder (the folder or name it loads), device, max_batch_seconds
"""

from asrser.runtime.hub import work_offline

work_offline()  # before transformers is imported: a scoring job never reaches the hub

from asrser.common.logs import job_log  # noqa: E402
from asrser.evaluation.start_encoder import score_start_encoder  # noqa: E402

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
