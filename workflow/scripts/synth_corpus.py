"""Snakemake entry point: write the embedded synthetic corpus (IEMOCAP format, MUSAN layout)."""

from asrser.common.logs import job_log
from asrser.synthesis import write_embedded_corpus

with job_log(snakemake.log[0]) as log:
    summary = write_embedded_corpus(
        snakemake.output.iemocap,
        snakemake.output.musan,
        synthetic=snakemake.params.synthetic,
        processes=snakemake.threads,
    )
    log.info("synthetic corpus: %s", summary)
