"""Snakemake entry point: materialise one corpus (clean, a noisy test corpus or train_noisy)."""

from asrser.common.logs import job_log
from asrser.data.corpora import build_corpus

with job_log(snakemake.log[0]):
    build_corpus(
        snakemake.input.iemocap,
        snakemake.input.musan,
        corpus=snakemake.wildcards.corpus,
        out_dir=snakemake.output.audio,
        seed=snakemake.params.seed,
        snr_range=snakemake.params.snr_range,
        babble_talkers=snakemake.params.babble_talkers,
        audio_format=snakemake.params.audio_format,
        threads=snakemake.threads,
        manifest_path=snakemake.output.manifest,
    )
