"""Snakemake script: score one trained model on one or several test conditions.

input:  model (folder), manifests (one test manifest per condition, in params.conditions order)
output: predictions, metrics (one each per condition); log: one per condition
params: conditions, hparams (config evaluation), device
"""

import contextlib
import time

import psutil

# Start-up is measured from the process's birth: interpreter, Snakemake preamble, imports, model.
PROCESS_STARTED = psutil.Process().create_time()

from asrser.evaluate import evaluate_model  # noqa: E402
from asrser.logs import job_log  # noqa: E402

conditions = list(snakemake.params.conditions)
logs = list(snakemake.log)
with job_log(logs[0]) as log:
    log.info("imports done %.2f s after process start", time.time() - PROCESS_STARTED)
    evaluate_model(
        model_dir=snakemake.input.model,
        manifests=list(snakemake.input.manifests),
        conditions=conditions,
        predictions_paths=list(snakemake.output.predictions),
        metrics_paths=list(snakemake.output.metrics),
        fold=snakemake.wildcards.fold,
        device=snakemake.params.device,
        threads=snakemake.threads,
        max_batch_seconds=float(snakemake.params.hparams["max_batch_seconds"]),
        process_started=PROCESS_STARTED,
        # Each evaluation gets its own log (the first shares the job's log with the model load).
        on_condition=lambda index: job_log(logs[index]) if index else contextlib.nullcontext(),
    )
