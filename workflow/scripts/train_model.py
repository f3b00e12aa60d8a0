"""Snakemake script: fine-tune one model ({model}) on one fold's {train} training split.

input:  train, valid (fold manifests), encoder (the pretrained demo encoder folder, or nothing)
output: model (folder), history (CSV), curves (PNG)
params: checkpoint_dir, encoder (config encoder.name_or_path), bert (config bert), hparams (config
        train), device, max_utterance_seconds (config data.max_utterance_seconds)
"""

from transformers.utils import logging as transformers_logging

from asrser.logs import job_log
from asrser.train import train

transformers_logging.disable_progress_bar()  # "Loading weights" bars would swamp the log
params = snakemake.params
with job_log(snakemake.log[0]):
    train(
        manifest_train=snakemake.input.train,
        manifest_valid=snakemake.input.valid,
        task=snakemake.wildcards.model,
        init=params.encoder,
        out_model_dir=snakemake.output.model,
        history_path=snakemake.output.history,
        curves_path=snakemake.output.curves,
        checkpoint_dir=params.checkpoint_dir,
        hparams=params.hparams,
        threads=snakemake.threads,
        device=params.device,
        bert_name_or_path=params.bert["name_or_path"],
        bert_finetune=params.bert["finetune"],
        max_utterance_seconds=params.max_utterance_seconds,
    )
