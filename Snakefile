# asrser: joint ASR and speech-emotion recognition under noise (see README.md).
#
#   data      synthetic corpus (embedded default) -> IEMOCAP and MUSAN ingestion -> noisy corpora
#             -> fold manifests
#   models    the hub encoder and BERT fetched once into models_dir (config/paper.yaml)
#   pretrain  the demo encoder (embedded default only; the paper fine-tunes a hub wav2vec2)
#   train     3 models x 2 training conditions x 10 folds = 60 trainings
#   evaluate  60 models x 7 test conditions = 420 evaluations
#   report    Table 1, Fig. 2 and what the paper left out
#   preflight `snakemake preflight`: the node checked for the run (GPU, disk, models, corpora)
from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config/config.yaml")


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/pretrain.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"
include: "rules/preflight.smk"


onsuccess:
    remove_empty_checkpoints()


rule all:
    default_target: True
    input:
        rules.aggregate.output,
        rules.score_start_encoder.output,
        rules.text_oracle.output,


# `snakemake data` runs the data stage only (manifests, noisy corpora, fold manifests).
rule data:
    input:
        data_targets(),


# Partial reruns: `snakemake fold_Ses03M` builds one fold's 6 trainings and 42 evaluations.
for fold_id in FOLDS:

    rule:
        name:
            f"fold_{fold_id}"
        input:
            fold_targets(fold_id),


# A misspelt fold target fails with the list of valid ones rather than "no rule to produce".
rule unknown_fold:
    input:
        unknown_fold,
    output:
        "fold_{name}",


# Last, once every rule is known: `snakemake --report` before the study has finished says so.
check_report_ready()
