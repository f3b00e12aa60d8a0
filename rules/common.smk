# Helpers shared by the rules: config validation, the study's dimensions, path builders.
import contextlib
import json
import os
import re
import shlex

from asrser import MODEL_TYPES, TEST_CONDITIONS, TRAIN_CONDITIONS
from asrser.runtime import snakemake_cli
from asrser.runtime.checkpoint_root import remove_empty_job_folders
from asrser.common.config import model_hparams, validate_config
from asrser.common.model_names import local_model_files
from asrser.evaluation.packing import choose_packing, declared_resource
from asrser.runtime.hub import (
    check_hub_models,
    configured_model,
    hub_models,
    hub_offline,
)
from asrser.runtime.hub_fetch import fetch_model
from asrser.common.logs import job_log
from asrser.report import table_files
from asrser.common.run_names import format_alpha, parse_run_name, run_name
from asrser.common.run_plan import (
    check_seeds,
    configured_alpha,
    run_hparams,
    swept_alphas,
)
from snakemake.exceptions import WorkflowError
from snakemake.io import is_flagged
from snakemake.logging import logger
from snakemake_interface_executor_plugins.settings import ExecMode

# Snakemake's command line (--executor, targets, --report), which the workflow object does not
# hold yet while the Snakefile is parsed (asrser.runtime.snakemake_cli).
SNAKEMAKE_ARGS = snakemake_cli.command_line()
# The process that plans the run, not one Snakemake started to run a job (a Slurm job).
PLANNING = workflow.exec_mode == ExecMode.DEFAULT


def fetch_command():
    """The command that fills the hub models' folders: fetch_models with this run's
    --configfile and --config options (the parse checks the corpus roots too)."""
    words = ["snakemake", "fetch_models"]
    for path in workflow.overwrite_configfiles:
        words += ["--configfile", str(path)]
    overrides = (
        workflow.config_settings.config
    )  # --config alone (not the --configfile keys)
    if overrides:
        words.append("--config")
        for key, value in overrides.items():
            text = value if isinstance(value, str) else json.dumps(value)
            words.append(shlex.quote(f"{key}={text}"))
    return " ".join(words)


HUB_WARNINGS = []


def hub_check(checked_config):
    HUB_WARNINGS.extend(check_hub_models(checked_config, fetch_command()))


HUB_CHECK = (["encoder", "bert", "models_dir"], hub_check)
SEEDS_CHECK = (["train.seeds"], check_seeds)


# Validated (defaults filled in) while the workflow is parsed: a bad config fails before any job,
# with every problem that can be known at once. The planning process also lists a real IEMOCAP
# root (session folders and speakers against config key speakers); a half-filled models folder,
# or one missing while the hub is offline, joins the list with the command that fills it.
config.update(
    validate_config(
        config,
        os.path.join(workflow.basedir, "config", "schema.yaml"),
        os.path.join(workflow.basedir, "config", "config.yaml"),
        working_dir=os.getcwd(),
        list_corpus=PLANNING,
        checks=[SEEDS_CHECK, HUB_CHECK],
    )
)
for warning in HUB_WARNINGS:
    logger.warning(warning)

# The encoder and BERT, and those of them fetched from the hub into config key models_dir.
ENCODER = configured_model(config, "encoder")
BERT = configured_model(config, "bert")
HUB_MODELS = hub_models(config)

# evaluation.jobs `auto` resolved for this run (asrser.evaluation.packing); the resolved packing
# is what the evaluation jobs' params hold, as if it had been configured.
EVALUATION_JOBS, PACKING_REASON = choose_packing(
    config["evaluation"]["jobs"],
    executor=snakemake_cli.executor(SNAKEMAKE_ARGS),
    job_rules=snakemake_cli.job_rules(SNAKEMAKE_ARGS),
    declared_gpus=declared_resource(workflow.global_resources, "gpu"),
    job_gpus=config["resources"]["gpu"],
)
config["evaluation"]["jobs"] = EVALUATION_JOBS
if PLANNING and PACKING_REASON.startswith("auto"):
    logger.info(f"evaluation.jobs: {EVALUATION_JOBS} ({PACKING_REASON})")


FOLDS = list(config["speakers"])
NOISY_CORPORA = [c for c in TEST_CONDITIONS if c != "clean"]
CORPORA = list(TEST_CONDITIONS) + ["train_noisy"]
FOLD_SPLITS = [
    f"{split}_{train}" for train in TRAIN_CONDITIONS for split in ("train", "valid")
]
FOLD_MANIFESTS = FOLD_SPLITS + [f"test_{condition}" for condition in TEST_CONDITIONS]
ENV = "../envs/asrser.yaml"
# Training jobs keep their resume points under config key checkpoint_root
# (asrser.runtime.checkpoint_root), which each job reads from the config, not from its params: moving the
# root (to node-local scratch) reruns nothing. Each job removes its own folder when done; the
# emptied folders above them go in onsuccess, when no job can be creating one (removing them
# from a job would race with parallel jobs). The demo encoder's pretraining keeps its own.
PRETRAIN_CHECKPOINTS = "results/checkpoints/pretrain_encoder"
# The paper's Table 1 ships with the workflow. Relative to the working directory, not absolute
# (workflow.source_path), so a moved or re-cloned project does not rerun the aggregation.
PAPER_TABLE1 = os.path.relpath(
    os.path.join(workflow.basedir, "config", "paper_table1.csv")
)


# Training seeds (config key train.seeds). Seed 0's runs are the main run: their folders carry
# no tag, so adding seeds never moves or reruns a model trained before.
SEEDS = list(config["train"]["seeds"])
# A run folder is {model}-{train}{run_tag}: run_tag is "" for the main run (seed 0), -seed{s}
# for another seed, -alpha{a}[-seed{s}] for the alpha sweep's joint runs (asrser.common.run_names).
# The constraint spells the tags as run_names writes them; parse_run_name checks the rest.
SEED_TAG = "(-seed[1-9][0-9]*)?"
ALPHA_TAG = f"-alpha[0-9]+[.][0-9]+{SEED_TAG}"


wildcard_constraints:
    corpus="|".join(CORPORA),
    condition="|".join(TEST_CONDITIONS),
    model="|".join(MODEL_TYPES),
    train="|".join(TRAIN_CONDITIONS),
    fold="|".join(FOLDS),
    run_tag=f"{SEED_TAG}|{ALPHA_TAG}",


def job_resources(kind):
    """Threads, memory and runtime of a heavy job kind ('train', 'evaluate') from config."""
    return config["resources"][kind]


def corpus_manifests():
    return expand("results/data/corpora/{corpus}.csv", corpus=CORPORA)


def fold_manifests(fold):
    return expand(
        "results/data/folds/{fold}/{name}.csv", fold=fold, name=FOLD_MANIFESTS
    )


def tag_of_run(seed=0, alpha=None):
    """The tag a run's folder name adds to {model}-{train}: "" for seed 0 at the configured
    alpha, "-seed2", "-alpha0.3", "-alpha0.3-seed2" (asrser.common.run_names.run_name).
    """
    return run_name("joint", "clean", seed, alpha).removeprefix("joint-clean")


def seed_tags():
    """The run tags of the main study, one per training seed (config key train.seeds)."""
    return [tag_of_run(seed) for seed in SEEDS]


def main_alpha():
    """The joint model's loss weight in the main run (asrser.common.run_plan.configured_alpha)."""
    return configured_alpha(config["train"])


def sweep_alphas():
    """The alpha sweep's alphas that train joint models of their own, increasing."""
    return swept_alphas(config["alpha_sweep"]["alphas"], main_alpha())


def sweep_tags():
    """The run tags of the alpha sweep's own joint runs: every swept alpha and seed."""
    return [tag_of_run(seed, alpha) for alpha in sweep_alphas() for seed in SEEDS]


def run_of(wildcards):
    """The run a job trains or evaluates (asrser.common.run_names.RunName), checked: an alpha tag only
    on the joint model, and never at the configured alpha (that run is the main run's).
    """
    name = f"{wildcards.model}-{wildcards.train}{wildcards.run_tag}"
    try:
        run = parse_run_name(name)
    except ValueError as error:
        raise WorkflowError(f"run folder {name}: {error}") from None
    if run.alpha is not None and run.alpha == main_alpha():
        main = run_name(run.model, run.train, run.seed)
        raise WorkflowError(
            f"run folder {name}: alpha {format_alpha(run.alpha)} is the configured alpha "
            f"(config key train.alpha), whose joint models are the main run's, {main}"
        )
    return run


def train_hparams(wildcards):
    """Config key train for one run: shared keys, then those of train.models.<model>; for a
    seed s > 0 the seed train.seed + s, for an alpha-sweep run its alpha (asrser.common.run_plan).
    Seed 0's runs get exactly the main run's settings, whatever train.seeds holds."""
    run = run_of(wildcards)
    return run_hparams(model_hparams(config["train"], run.model), run.seed, run.alpha)


def synthetic_settings(*keys):
    """The keys of config key `synthetic` a synthesis job reads: a change to another key
    must not rewrite its corpus (and rerun everything after it)."""
    return {key: config["synthetic"][key] for key in keys}


def corpus_stamp_params(key):
    """For a real corpus: param corpus_files, a stamp of the files ingestion reads under config
    key `key` (iemocap_root, musan_root), so that a file added, removed or changed there reruns
    ingestion and everything after it (asrser.data.corpus_stamp). Nothing for the synthetic
    corpus: synth_corpus writes it, so Snakemake tracks it as that rule's output (and it does not
    exist yet when a fresh run is planned, which a stamp would take for an edit)."""
    if config["synthetic"]["enabled"]:
        return {}
    stamps = {"iemocap_root": iemocap_files_stamp, "musan_root": musan_files_stamp}
    return {"corpus_files": stamps[key]}


def iemocap_files_stamp(wildcards):
    # Imported when Snakemake first checks the params of a finished ingestion, not at every parse.
    from asrser.data.corpus_stamp import iemocap_stamp

    return iemocap_stamp(config["iemocap_root"])


def musan_files_stamp(wildcards):
    from asrser.data.corpus_stamp import musan_stamp

    return musan_stamp(config["musan_root"])


def hub_model(wildcards):
    return next(model for model in HUB_MODELS if model.hub_id == wildcards.hub_id)


def hub_revision(wildcards):
    """The revision fetch_model fetches (its param: a changed one fetches again)."""
    return hub_model(wildcards).revision


def hub_key(wildcards):
    """The config key naming a fetched model, for fetch_model's messages."""
    return hub_model(wildcards).key


def fetch_logged(hub_id, folder, revision, key, log):
    """fetch_model's job: asrser.runtime.hub_fetch.fetch_model, logged to the job's log file."""
    with job_log(log):
        fetch_model(hub_id, folder, revision=revision, key=key)


def model_input(model):
    """What a job that loads `model` (ENCODER, BERT) takes as input: a hub model's folder in
    models_dir (fetch_model writes it first; a refetch, new at a new revision, reruns the job),
    a local folder's files (new weights there rerun the job), nothing for a packaged model.
    """
    if model.hub_id is not None:
        return model.path
    return local_model_files(model.path)


def encoder_input(wildcards=None):
    """The pretrained demo encoder folder when this workflow builds it, else model_input."""
    if config["encoder"]["pretrain_demo"]:
        return config["encoder"]["name_or_path"]
    return model_input(ENCODER)


def bert_input(wildcards):
    """A joint training's or evaluation's BERT (model_input); nothing for the baselines."""
    return model_input(BERT) if wildcards.model == "joint" else []


def joint_bert_input(wildcards=None):
    """The BERT of the joint models a job evaluates among others (a fold's, the text oracle)."""
    return model_input(BERT)


def bert_settings(wildcards):
    """What a joint training reads of config key bert: the folder or name it loads (a hub model
    from its folder in models_dir, with its hub id) and finetune; nothing for the baselines,
    which never load a BERT (switching bert.finetune must not rerun them)."""
    if wildcards.model != "joint":
        return {}
    settings = {"name_or_path": BERT.path, "finetune": config["bert"]["finetune"]}
    if BERT.hub_id is not None:
        settings["hub_id"] = BERT.hub_id
    return settings


def data_targets():
    return [
        "results/data/iemocap.csv",
        "results/data/musan.csv",
        *corpus_manifests(),
        *[path for fold in FOLDS for path in fold_manifests(fold)],
    ]


def fold_targets(fold):
    """Everything one fold contributes: its 6 trainings and their 42 evaluations, per seed."""
    return model_outputs([fold]) + eval_outputs("metrics.json", [fold])


def unknown_fold(wildcards):
    raise ValueError(
        f"unknown fold '{wildcards.name}': valid folds (config key 'speakers') are "
        + ", ".join(f"fold_{fold}" for fold in FOLDS)
    )


def single_condition(wildcards):
    """The one test condition of a per-evaluation job, as the list the script expects."""
    return [wildcards.condition]


def eval_outputs(name, folds=None, tags=None, models=MODEL_TYPES):
    """Paths of one evaluation output kind ('predictions.csv', 'metrics.json') of the study:
    every seed's runs (or those of the run tags `tags`), seed 0's first."""
    return expand(
        "results/eval/{model}-{train}{run_tag}/{fold}/{condition}/{name}",
        run_tag=seed_tags() if tags is None else tags,
        model=models,
        train=TRAIN_CONDITIONS,
        fold=FOLDS if folds is None else folds,
        condition=TEST_CONDITIONS,
        name=name,
    )


def fold_eval_outputs(name, models=MODEL_TYPES):
    """One fold's outputs of one kind for one run tag, models outer and conditions inner (the
    script's order)."""
    return expand(
        "results/eval/{model}-{train}{{run_tag}}/{{fold}}/{condition}/{name}",
        model=models,
        train=TRAIN_CONDITIONS,
        condition=TEST_CONDITIONS,
        name=name,
    )


def fold_models(models=MODEL_TYPES):
    """A per-fold evaluation job's models, of one fold and run tag, in the script's order."""
    return expand(
        "results/models/{model}-{train}{{run_tag}}/{{fold}}/model",
        model=models,
        train=TRAIN_CONDITIONS,
    )


def fold_eval_logs(models=MODEL_TYPES):
    """A per-fold evaluation job's logs, one per model and condition (the outputs' order)."""
    return expand(
        "logs/eval/{model}-{train}{{run_tag}}/{{fold}}/{condition}.log",
        model=models,
        train=TRAIN_CONDITIONS,
        condition=TEST_CONDITIONS,
    )


def model_outputs(folds=None, tags=None):
    return expand(
        "results/models/{model}-{train}{run_tag}/{fold}/history.csv",
        run_tag=seed_tags() if tags is None else tags,
        model=MODEL_TYPES,
        train=TRAIN_CONDITIONS,
        fold=FOLDS if folds is None else folds,
    )


def seed_table_outputs():
    """The aggregate rule's tables that exist with several seeds only (asrser.report.table_files),
    as its named outputs."""
    extra = table_files(len(SEEDS))[len(table_files(1)) :]
    return {os.path.splitext(name)[0]: f"results/tables/{name}" for name in extra}


def alpha_sweep_predictions(wildcards=None):
    """The alpha sweep's predictions: its own joint runs, the main run's joint runs (the
    configured alpha's point), and the main run's baselines (reference lines); every seed.
    """
    return eval_outputs(
        "predictions.csv", tags=sweep_tags(), models=["joint"]
    ) + eval_outputs("predictions.csv")


def configured_alpha_param(wildcards=None):
    """The main run's alpha, as the alpha_sweep rule's param (a function: TrainConfig's
    default is read only when the sweep is planned)."""
    return main_alpha()


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
    """The names of the training runs (a checkpoint root's subfolders): every seed's, and the
    alpha sweep's joint runs."""
    main = [
        f"{model}-{train}{tag}"
        for tag in seed_tags()
        for model in MODEL_TYPES
        for train in TRAIN_CONDITIONS
    ]
    return main + [
        f"joint-{train}{tag}" for tag in sweep_tags() for train in TRAIN_CONDITIONS
    ]


def remove_empty_checkpoints():
    """After a successful run: the checkpoint folders the jobs emptied (one still
    holding a resume point, of a job killed earlier, stays), and the pretraining's."""
    remove_empty_job_folders(config["checkpoint_root"], training_runs(), FOLDS)
    for folder in (PRETRAIN_CHECKPOINTS, os.path.dirname(PRETRAIN_CHECKPOINTS)):
        with contextlib.suppress(OSError):  # absent, or not empty
            os.rmdir(folder)


# Rules of targets outside `all` (run on request): `--report` without a target shows `all`'s
# results, so their files are not among those it needs.
OPTIONAL_TARGET_RULES = ("alpha_sweep",)


def report_files():
    """The files the report shows of the whole study: the report() outputs of the rules without
    wildcards (tables, figures; a training's curves are per model); optional targets are left out.
    """
    return [
        str(path)
        for rule in workflow.rules
        if not rule.has_wildcards() and rule.name not in OPTIONAL_TARGET_RULES
        for path in rule.output
        if is_flagged(path, "report")
    ]


def check_report_ready():
    """`snakemake --report` where the study has not run to its end: one line saying to run the
    workflow first, instead of Snakemake's warning for every missing file and its error about
    the first (the report is built from finished results only). Called after the last rule.
    """
    if not (
        PLANNING
        and snakemake_cli.report_without_run(SNAKEMAKE_ARGS)
        and not snakemake_cli.targets(SNAKEMAKE_ARGS)
    ):
        return
    missing = [path for path in report_files() if not os.path.exists(path)]
    if missing:
        more = f" and {len(missing) - 1} more of its files" if len(missing) > 1 else ""
        raise WorkflowError(
            f"snakemake --report: the study has not run to its end in {os.getcwd()} "
            f"({missing[0]}{more} missing), and the report shows finished results only: run "
            "the workflow first (the same command without --report), then --report; or add "
            "--report-after-run to do both"
        )


def preflight_layout(wildcards=None):
    """Where the run writes, for the preflight's disk check (asrser.runtime.preflight.RunLayout)."""
    return {
        "results": "results",
        "trained_model": "results/models/{run}/{fold}/model",
        "corpus_manifests": corpus_manifests(),
    }
