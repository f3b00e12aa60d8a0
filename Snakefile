# asrser: joint ASR and speech-emotion recognition under noise (see README.md).
#
#   data      synthetic corpus (embedded default) -> IEMOCAP and MUSAN ingestion -> noisy corpora
#             -> fold manifests
#   pretrain  the demo encoder (embedded default only; the paper fine-tunes a hub wav2vec2)
#   train     3 models x 2 training conditions x 10 folds = 60 trainings
#   evaluate  60 models x 7 test conditions = 420 evaluations
#   report    Table 1, Fig. 2 and what the paper left out
from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config/config.yaml")


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/pretrain.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(),
