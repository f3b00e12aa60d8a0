"""Snakemake entry point: parse IEMOCAP into the IEM4 manifest and its drop summary."""

from asrser.common.io import write_csv, write_json
from asrser.common.logs import job_log
from asrser.data.iemocap import parse_iemocap

with job_log(snakemake.log[0]) as log:
    manifest, summary = parse_iemocap(
        snakemake.input.root,
        merge_exc=snakemake.params.merge_exc,
        expected_speakers=snakemake.params.speakers,
    )
    log.info("IEMOCAP: kept %d utterances (%.2f h)", summary["kept"], summary["duration_hours"])
    log.info("IEMOCAP: dropped by reason %s", summary["dropped"])
    log.info("IEMOCAP: examples of dropped ids %s", summary["dropped_examples"])
    log.info(
        "IEMOCAP: per speaker %s; per emotion %s", summary["per_speaker"], summary["per_emotion"]
    )
    write_json(snakemake.output.summary, summary)
    write_csv(snakemake.output.manifest, manifest)
