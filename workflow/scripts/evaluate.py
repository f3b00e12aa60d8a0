"""Snakemake script: score trained models on one or several test conditions.

input:  model (folder) or models (folders: evaluation.jobs per_fold), manifests (one test
        manifest per condition, in params.conditions order), bert (the joint models' BERT folder
        or files, which they reload offline; nothing for a packaged BERT)
output: predictions, metrics (one each per model and condition, models outer); log: the same
params: conditions, hparams (config evaluation), device
"""

import contextlib
import time
from pathlib import Path

import psutil

# Start-up is measured from the process's birth: interpreter, Snakemake preamble, imports, model.
PROCESS_STARTED = psutil.Process().create_time()

from asrser.runtime.hub import work_offline  # noqa: E402

work_offline()  # before transformers is imported: an evaluation job never reaches the hub

from asrser.common.logs import job_log  # noqa: E402
from asrser.evaluation.evaluate import evaluate_model  # noqa: E402


def paths(named) -> list[str]:
    """A named input or output as a list: Snakemake gives a single path as a plain str (one
    condition a job, evaluation.jobs per_evaluation), whose list() would be its characters."""
    return [named] if isinstance(named, str) else list(named)


conditions = paths(snakemake.params.conditions)
if hasattr(snakemake.input, "models"):
    model_dirs = paths(snakemake.input.models)
else:
    model_dirs = [snakemake.input.model]
per_model = len(conditions)
predictions, metrics = paths(snakemake.output.predictions), paths(snakemake.output.metrics)
manifests = paths(snakemake.input.manifests)
logs = paths(snakemake.log)
if not len(predictions) == len(metrics) == len(logs) == per_model * len(model_dirs):
    raise ValueError("one prediction, metrics and log path is expected per model and condition")

for number, model_dir in enumerate(model_dirs):
    first = number * per_model
    group = slice(first, first + per_model)
    # Models outer, conditions inner: each output sits under its own model's folder name.
    run = Path(model_dir).parent.parent.name  # {model}-{train}
    if any(f"/{run}/" not in path for path in predictions[group]):
        raise ValueError(f"outputs {predictions[group]} are not those of {model_dir}")
    with job_log(logs[first]) as log:
        if number == 0:
            log.info("imports done %.2f s after process start", time.time() - PROCESS_STARTED)
        evaluate_model(
            model_dir=model_dir,
            manifests=manifests,
            conditions=conditions,
            predictions_paths=predictions[group],
            metrics_paths=metrics[group],
            fold=snakemake.wildcards.fold,
            device=snakemake.params.device,
            threads=snakemake.threads,
            max_batch_seconds=float(snakemake.params.hparams["max_batch_seconds"]),
            # The first model's start-up is the process's; a later one's is its own loading.
            process_started=PROCESS_STARTED if number == 0 else None,
            # Each evaluation gets its own log (the first shares the model's log with its load).
            on_condition=lambda index, first=first: (
                job_log(logs[first + index]) if index else contextlib.nullcontext()
            ),
        )
