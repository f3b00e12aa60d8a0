"""Snakemake entry point: list MUSAN, convert non-16 kHz-mono files, split train/test pools."""

from asrser.common.io import write_csv, write_json
from asrser.common.logs import job_log
from asrser.data.musan import ingest_musan

with job_log(snakemake.log[0]) as log:
    manifest, summary = ingest_musan(
        snakemake.input.root,
        converted_dir=snakemake.output.converted,
        seed=snakemake.params.seed,
        test_fraction=snakemake.params.test_fraction,
    )
    log.info("MUSAN: kept %d files, converted %d", summary["kept"], summary["converted"])
    log.info("MUSAN: dropped %s %s", summary["dropped"], summary["dropped_files"])
    log.info("MUSAN: ignored entries %s", summary["ignored"])
    log.info("MUSAN: per type %s", summary["per_type"])
    write_json(snakemake.output.summary, summary)
    write_csv(snakemake.output.manifest, manifest)
