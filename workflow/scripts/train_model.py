"""Snakemake script: fine-tune one model ({model}) on one fold's {train} training split, for the
run {model}-{train}{run_tag} (run_tag: "" for the main run, -seed{s}, -alpha{a}[-seed{s}]).

input:  train, valid (fold manifests), encoder (the pretrained demo encoder folder, a hub
        encoder's folder in models_dir, a local encoder folder's files, or nothing), bert (the
        same for the joint model's BERT)
output: model (folder, with provenance.json), history (CSV), curves (PNG)
params: encoder (the folder or name it loads), bert (name_or_path, finetune and, for a hub
        model, hub_id; empty but for the joint model), hparams (config train, for this model
        type and run: its seed and alpha), device, max_utterance_seconds (config
        data.max_utterance_seconds)
config: checkpoint_root (where the resume points go, expanded on this machine: not a parameter,
        so that moving it reruns nothing)
"""

from asrser.runtime.hub import work_offline

work_offline()  # before transformers is imported: a training job never reaches the hub

from transformers.utils import logging as transformers_logging  # noqa: E402

from asrser.common.logs import job_log  # noqa: E402
from asrser.runtime.checkpoint_root import job_checkpoint_dir  # noqa: E402
from asrser.training.settings import train_settings  # noqa: E402
from asrser.training.train import train  # noqa: E402

transformers_logging.disable_progress_bar()  # "Loading weights" bars would swamp the log
params = snakemake.params
wildcards = snakemake.wildcards
with job_log(snakemake.log[0]):
    # Parsed here, once: train() and everything below take the typed settings.
    settings = train_settings(params.hparams, wildcards.model)
    checkpoint_dir = job_checkpoint_dir(
        snakemake.config["checkpoint_root"],
        f"{wildcards.model}-{wildcards.train}{wildcards.run_tag}",
        wildcards.fold,
    )
    train(
        manifest_train=snakemake.input.train,
        manifest_valid=snakemake.input.valid,
        model=snakemake.wildcards.model,
        init=params.encoder,
        out_model_dir=snakemake.output.model,
        history_path=snakemake.output.history,
        curves_path=snakemake.output.curves,
        checkpoint_dir=checkpoint_dir,
        settings=settings,
        threads=snakemake.threads,
        device=params.device,
        bert_name_or_path=params.bert.get("name_or_path"),
        bert_finetune=params.bert.get("finetune", False),
        max_utterance_seconds=params.max_utterance_seconds,
        bert_hub_id=params.bert.get("hub_id"),
    )
