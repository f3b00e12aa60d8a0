# Helpers shared by the rules: config validation, the study's dimensions, path builders.
import contextlib
import os

from asrser import MODEL_TYPES, TEST_CONDITIONS, TRAIN_CONDITIONS
from asrser.checkpoint_root import remove_empty_job_folders
from asrser.config import local_model_files, model_hparams, validate_config

# Validated (defaults filled in) while the workflow is parsed: a bad config fails before any job.
config.update(
    validate_config(
        config,
        os.path.join(workflow.basedir, "config", "schema.yaml"),
        os.path.join(workflow.basedir, "config", "config.yaml"),
    )
)

FOLDS = list(config["speakers"])
NOISY_CORPORA = [c for c in TEST_CONDITIONS if c != "clean"]
CORPORA = list(TEST_CONDITIONS) + ["train_noisy"]
FOLD_SPLITS = [
    f"{split}_{train}" for train in TRAIN_CONDITIONS for split in ("train", "valid")
]
FOLD_MANIFESTS = FOLD_SPLITS + [f"test_{condition}" for condition in TEST_CONDITIONS]
ENV = "../envs/asrser.yaml"
# Training jobs keep their resume points under config key checkpoint_root
# (asrser.checkpoint_root), which each job reads from the config, not from its params: moving the
# root (to node-local scratch) reruns nothing. Each job removes its own folder when done; the
# emptied folders above them go in onsuccess, when no job can be creating one (removing them
# from a job would race with parallel jobs). The demo encoder's pretraining keeps its own.
PRETRAIN_CHECKPOINTS = "results/checkpoints/pretrain_encoder"
# The paper's Table 1 ships with the workflow. Relative to the working directory, not absolute
# (workflow.source_path), so a moved or re-cloned project does not rerun the aggregation.
PAPER_TABLE1 = os.path.relpath(
    os.path.join(workflow.basedir, "config", "paper_table1.csv")
)


wildcard_constraints:
    corpus="|".join(CORPORA),
    condition="|".join(TEST_CONDITIONS),
    model="|".join(MODEL_TYPES),
    train="|".join(TRAIN_CONDITIONS),
    fold="|".join(FOLDS),


def job_resources(kind):
    """Threads, memory and runtime of a heavy job kind ('train', 'evaluate') from config."""
    return config["resources"][kind]


def corpus_manifests():
    return expand("results/data/corpora/{corpus}.csv", corpus=CORPORA)


def fold_manifests(fold):
    return expand(
        "results/data/folds/{fold}/{name}.csv", fold=fold, name=FOLD_MANIFESTS
    )


def train_hparams(wildcards):
    """Config key train for one model type: shared keys, then those of train.models.<model>."""
    return model_hparams(config["train"], wildcards.model)


def synthetic_settings(*keys):
    """The keys of config key `synthetic` a synthesis job reads: a change to another key
    must not rewrite its corpus (and rerun everything after it)."""
    return {key: config["synthetic"][key] for key in keys}


def encoder_input(wildcards=None):
    """The pretrained demo encoder folder when this workflow builds it; a local model folder's
    files (new weights there rerun the jobs); nothing for a hub id."""
    if config["encoder"]["pretrain_demo"]:
        return config["encoder"]["name_or_path"]
    return local_model_files(config["encoder"]["name_or_path"])


def bert_input(wildcards):
    """A joint training's BERT, when it is a local folder: its files."""
    if wildcards.model != "joint":
        return []
    return local_model_files(config["bert"]["name_or_path"])


def bert_settings(wildcards):
    """Config key bert for the joint model; nothing for the baselines, which never load a BERT
    (switching bert.finetune must not rerun them)."""
    return config["bert"] if wildcards.model == "joint" else {}


def data_targets():
    return [
        "results/data/iemocap.csv",
        "results/data/musan.csv",
        *corpus_manifests(),
        *[path for fold in FOLDS for path in fold_manifests(fold)],
    ]


def fold_targets(fold):
    """Everything one fold contributes: its 6 trainings and their 42 evaluations."""
    return model_outputs([fold]) + eval_outputs("metrics.json", [fold])


def unknown_fold(wildcards):
    raise ValueError(
        f"unknown fold '{wildcards.name}': valid folds (config key 'speakers') are "
        + ", ".join(f"fold_{fold}" for fold in FOLDS)
    )


def single_condition(wildcards):
    """The one test condition of a per-evaluation job, as the list the script expects."""
    return [wildcards.condition]


def eval_outputs(name, folds=None):
    """Paths of one evaluation output kind ('predictions.csv', 'metrics.json') of the study."""
    return expand(
        "results/eval/{model}-{train}/{fold}/{condition}/{name}",
        model=MODEL_TYPES,
        train=TRAIN_CONDITIONS,
        fold=FOLDS if folds is None else folds,
        condition=TEST_CONDITIONS,
        name=name,
    )


def fold_eval_outputs(name):
    """One fold's outputs of one kind, models outer and conditions inner (the script's order)."""
    return expand(
        "results/eval/{model}-{train}/{{fold}}/{condition}/{name}",
        model=MODEL_TYPES,
        train=TRAIN_CONDITIONS,
        condition=TEST_CONDITIONS,
        name=name,
    )


def model_outputs(folds=None):
    return expand(
        "results/models/{model}-{train}/{fold}/history.csv",
        model=MODEL_TYPES,
        train=TRAIN_CONDITIONS,
        fold=FOLDS if folds is None else folds,
    )


def text_oracle_runs():
    """One entry per (train condition, fold): the joint model and the clean evaluations to compare."""
    return [
        {
            "train": train,
            "fold": fold,
            "joint_model": f"results/models/joint-{train}/{fold}/model",
            "manifest": f"results/data/folds/{fold}/test_clean.csv",
            "joint_predictions": f"results/eval/joint-{train}/{fold}/clean/predictions.csv",
            "ser_predictions": f"results/eval/ser-{train}/{fold}/clean/predictions.csv",
        }
        for train in TRAIN_CONDITIONS
        for fold in FOLDS
    ]


TEXT_ORACLE_FILES = ("joint_model", "manifest", "joint_predictions", "ser_predictions")


def text_oracle_inputs(wildcards=None):
    return [run[key] for run in text_oracle_runs() for key in TEXT_ORACLE_FILES]


def training_runs():
    """The `<model>-<train>` names of the training runs (a checkpoint root's subfolders)."""
    return [f"{model}-{train}" for model in MODEL_TYPES for train in TRAIN_CONDITIONS]


def remove_empty_checkpoints():
    """After a successful run: the checkpoint folders the jobs emptied (one still
    holding a resume point, of a job killed earlier, stays), and the pretraining's."""
    remove_empty_job_folders(config["checkpoint_root"], training_runs(), FOLDS)
    for folder in (PRETRAIN_CHECKPOINTS, os.path.dirname(PRETRAIN_CHECKPOINTS)):
        with contextlib.suppress(OSError):  # absent, or not empty
            os.rmdir(folder)
