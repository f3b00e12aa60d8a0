"""Snakemake entry point: the train/valid/test manifests of one leave-one-speaker-out fold."""

from pathlib import Path

from asrser.common.logs import job_log
from asrser.data.folds import make_fold

with job_log(snakemake.log[0]):
    out_dir = Path(snakemake.output.manifests[0]).parent
    make_fold(
        corpora={Path(path).stem: path for path in snakemake.input.corpora},
        iemocap_manifest=snakemake.input.iemocap,
        fold=snakemake.wildcards.fold,
        valid_fraction=snakemake.params.valid_fraction,
        seed=snakemake.params.seed,
        out_dir=out_dir,
    )
