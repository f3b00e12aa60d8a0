"""Snakemake entry point: write the separate pretraining corpus (other voices, other sentences)."""

from asrser.common.logs import job_log
from asrser.synthesis import write_pretrain_corpus

with job_log(snakemake.log[0]):
    write_pretrain_corpus(
        snakemake.output[0],
        seed=snakemake.params.synthetic["seed"],
        n_utterances=snakemake.params.synthetic["pretrain_utterances"],
        processes=snakemake.threads,
    )
