"""Snakemake script: pretrain the demo encoder on the synthetic pretraining corpus.

input:  corpus (folder holding manifest.csv and the audio)
output: the encoder folder (save_pretrained CTC model + processor, pretrain_metrics.json,
        pretrain_history.csv, pretrain_curves.png)
params: hparams (config pretrain), device; optional checkpoint_dir (default: a hidden sibling of
        the output folder)
"""

from asrser.runtime.hub import work_offline

work_offline()  # before transformers is imported: a pretraining job never reaches the hub

from transformers.utils import logging as transformers_logging  # noqa: E402

from asrser.common.logs import job_log  # noqa: E402
from asrser.training.pretrain import pretrain  # noqa: E402
from asrser.training.settings import PretrainConfig  # noqa: E402

transformers_logging.disable_progress_bar()
params = snakemake.params
with job_log(snakemake.log[0]):
    # Parsed here, once: pretrain() and everything below take the typed settings.
    settings = PretrainConfig.from_dict(params.hparams)
    pretrain(
        corpus_dir=snakemake.input.corpus,
        out_dir=snakemake.output[0],
        settings=settings,
        threads=snakemake.threads,
        device=params.device,
        checkpoint_dir=params.get("checkpoint_dir", None),
    )
