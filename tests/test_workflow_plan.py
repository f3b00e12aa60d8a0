"""The DAG is known before anything runs: dry runs of every config, fold targets, bad configs."""

from __future__ import annotations

import os
import shutil

import pytest
from fixtures import make_iemocap_tree, make_musan_tree
from tiny_models import paper_hub
from workflow_helpers import PAPER_CONFIG, REPO, TEST_CONFIG, planned_jobs, snakemake

from asrser.runtime.hub import FETCH_RECORD, read_fetch_record

FOLDS = [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"]
ENCODER_ID = "facebook/wav2vec2-large-960h-lv60-self"
ONLINE = {"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0"}
SLURM = ("--profile", str(REPO / "profiles" / "slurm"))
LOCAL_GPU = ("--profile", str(REPO / "profiles" / "local-gpu"))


@pytest.fixture(scope="module")
def corpus_roots(tmp_path_factory):
    """Corpus roots, and a models folder holding the paper's two hub models as a user who
    filled it by hand leaves it (tiny stand-ins: tests/tiny_models.paper_hub)."""
    root = tmp_path_factory.mktemp("corpora")
    make_iemocap_tree(root / "IEMOCAP", per_emotion=1, seconds=0.2, bad_cases=False)
    make_musan_tree(root / "musan", files_per_subset=1, seconds=0.2, bad_cases=False)
    paper_hub(root / "models")
    return root


def paper_config(roots: dict, *config: str) -> tuple[str, ...]:
    """The options of a run of config/paper.yaml on `roots` (iemocap_root, musan_root,
    models_dir), with more --config values."""
    corpora = (f"{key}={value}" for key, value in roots.items())
    return ("--configfile", str(PAPER_CONFIG), "--config", *corpora, *config)


def fixture_roots(corpus_roots, **overrides) -> dict:
    roots = {
        "iemocap_root": corpus_roots / "IEMOCAP",
        "musan_root": corpus_roots / "musan",
        "models_dir": corpus_roots / "models",
    }
    return {**roots, **overrides}


def test_default_config_plans_the_whole_study(tmp_path):
    jobs = planned_jobs(tmp_path)
    assert jobs["synth_corpus"] == 1
    assert jobs["synth_pretrain_corpus"] == 1
    assert jobs["pretrain_encoder"] == 1
    assert jobs["ingest_iemocap"] == 1 and jobs["ingest_musan"] == 1
    assert jobs["mix_corpus"] == 8  # clean, six noisy test sets, noisy training set
    assert jobs["make_fold"] == 10
    assert jobs["train_model"] == 60
    # The embedded default packs a fold's six models and seven conditions into one job.
    assert jobs["evaluate_fold"] == 10
    assert "evaluate_model" not in jobs and "evaluate_condition" not in jobs
    assert "evaluate_condition" not in jobs
    assert jobs["aggregate"] == 1


def test_paper_config_plans_420_evaluation_jobs(tmp_path, corpus_roots):
    """On a cluster (profiles/slurm), where evaluation.jobs auto packs one evaluation a job."""
    jobs = planned_jobs(tmp_path, *SLURM, *paper_config(fixture_roots(corpus_roots)))
    assert jobs["train_model"] == 60
    assert jobs["evaluate_condition"] == 420
    assert "evaluate_model" not in jobs
    # Real corpora and a hub encoder: nothing synthetic, nothing pretrained.
    for rule in ("synth_corpus", "synth_pretrain_corpus", "pretrain_encoder"):
        assert rule not in jobs


def test_the_local_gpu_profile_packs_one_evaluation_job_per_model_with_no_config_for_it(
    tmp_path, corpus_roots
):
    """The corpus roots given with --config replace any config a profile sets; evaluation.jobs
    auto needs none: a local run whose jobs ask for a GPU loads each model onto it once."""
    jobs = planned_jobs(tmp_path, *LOCAL_GPU, *paper_config(fixture_roots(corpus_roots)))
    assert jobs["evaluate_model"] == 60
    assert "evaluate_condition" not in jobs and "evaluate_fold" not in jobs


def test_auto_packing_follows_the_run_and_an_explicit_one_wins(tmp_path, corpus_roots):
    roots = fixture_roots(corpus_roots)
    # The README's one-GPU command, with or without the declared GPU.
    for declared in (("--resources", "gpu=1"), ()):
        jobs = planned_jobs(tmp_path, *declared, *paper_config(roots))
        assert jobs["evaluate_model"] == 60 and "evaluate_condition" not in jobs
    # A local run whose jobs ask for no GPU: a job's start-up costs more than its work.
    cpu = planned_jobs(tmp_path, *paper_config(roots, "resources={gpu: 0}"))
    assert cpu["evaluate_fold"] == 10 and "evaluate_model" not in cpu
    # Another executor than the local one is a cluster.
    other = planned_jobs(tmp_path, "--executor", "slurm", "--jobs", "4", *paper_config(roots))
    assert other["evaluate_condition"] == 420
    # An explicit packing is planned wherever the jobs go; the plan's log names auto's choice.
    explicit = planned_jobs(tmp_path, *SLURM, *paper_config(roots, "evaluation={jobs: per_model}"))
    assert explicit["evaluate_model"] == 60
    result = snakemake(tmp_path, "-n", *LOCAL_GPU, *paper_config(roots))
    assert "evaluation.jobs: per_model (auto: a local run whose jobs ask for a GPU)" in (
        result.stdout + result.stderr
    )


@pytest.mark.parametrize(
    ("rule", "wildcards"),
    [
        ("evaluate_condition", "model=asr,train=clean,fold=Ses01F,condition=noise5"),
        ("evaluate_model", "model=joint,train=noisy,fold=Ses01F"),
        ("evaluate_fold", "fold=Ses01F"),
    ],
)
def test_a_job_process_has_the_evaluation_rule_its_job_was_submitted_as(tmp_path, rule, wildcards):
    """Under Slurm every job re-parses the Snakefile in a process of its own (remote mode, with
    Slurm's job-step executor): there auto would choose otherwise than where the job was
    planned, so it takes the rule named by the job (--target-jobs) instead."""
    result = snakemake(
        tmp_path,
        "--list-rules",
        "--mode",
        "remote",
        "--executor",
        "slurm-jobstep",
        "--target-jobs",
        f"{rule}:{wildcards}",
        "--configfile",
        str(TEST_CONFIG),
    )
    rules = set(result.stdout.split())
    evaluation_rules = {"evaluate_condition", "evaluate_model", "evaluate_fold"}
    assert rules & evaluation_rules == {rule}


def test_per_evaluation_packing_plans_420_jobs_on_the_default_too(tmp_path):
    jobs = planned_jobs(tmp_path, "--config", "evaluation={'jobs': 'per_evaluation'}")
    assert jobs["evaluate_condition"] == 420
    assert "evaluate_model" not in jobs


def test_per_model_packing_plans_60_jobs_on_the_default_too(tmp_path):
    jobs = planned_jobs(tmp_path, "--config", "evaluation={'jobs': 'per_model'}")
    assert jobs["evaluate_model"] == 60
    assert "evaluate_fold" not in jobs


def test_fold_target_plans_exactly_one_fold(tmp_path):
    jobs = planned_jobs(tmp_path, targets=("fold_Ses03M",))
    assert jobs["train_model"] == 6
    assert jobs["evaluate_fold"] == 1
    assert jobs["make_fold"] == 1
    assert "aggregate" not in jobs


def test_unknown_fold_lists_the_valid_ones(tmp_path):
    result = snakemake(tmp_path, "-n", targets=("fold_Ses09X",), check=False)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "unknown fold 'Ses09X'" in message
    assert all(f"fold_{fold}" in message for fold in FOLDS)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("data={'valid_fraction': 0.9}", "data.valid_fraction"),
        ("data={'seed': 'seven'}", "data.seed"),
        ("evaluation={'jobs': 'sometimes'}", "evaluation.jobs"),
        ("data={'train_snr_db': [35, 5]}", "data.train_snr_db"),
    ],
)
def test_bad_config_fails_before_any_job(tmp_path, override, expected):
    result = snakemake(tmp_path, "-n", "--config", override, check=False)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_an_unwritable_checkpoint_root_is_refused_before_any_job(tmp_path):
    (tmp_path / "a_file").write_text("")
    root = f"checkpoint_root={tmp_path / 'a_file' / 'checkpoints'}"
    result = snakemake(tmp_path, "-n", "--config", root, check=False)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "config key 'checkpoint_root'" in message and "cannot be written" in message
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("key", ["iemocap_root", "musan_root"])
def test_missing_corpus_root_is_named(tmp_path, corpus_roots, key):
    roots = fixture_roots(corpus_roots, **{key: tmp_path / "nowhere"})
    result = snakemake(tmp_path, "-n", *paper_config(roots), check=False)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert f"config key '{key}'" in message and "nowhere" in message


def test_root_without_sessions_is_rejected(tmp_path, corpus_roots):
    empty = tmp_path / "empty_iemocap"
    empty.mkdir()
    roots = fixture_roots(corpus_roots, iemocap_root=empty)
    result = snakemake(tmp_path, "-n", *paper_config(roots), check=False)
    assert result.returncode != 0
    assert "no Session1 .. Session5" in result.stdout + result.stderr


def _problems(result) -> list[str]:
    """The lines of a plan's configuration error (one a problem, under their heading)."""
    lines = (result.stdout + result.stderr).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("ConfigError in file"))
    problems = []
    for line in lines[start + 1 :]:
        if line.startswith("  File "):
            break
        problems.append(line.strip())
    return problems[1:] if problems[0].endswith("problems in the configuration:") else problems


def test_bad_roots_schema_errors_and_semantic_ones_come_in_one_message(tmp_path, corpus_roots):
    roots = fixture_roots(
        corpus_roots, iemocap_root=tmp_path / "no_iemocap", musan_root=tmp_path / "no_musan"
    )
    result = snakemake(
        tmp_path,
        "-n",
        *paper_config(roots, "data={seed: seven, train_snr_db: [35, 5]}"),
        check=False,
    )
    assert result.returncode != 0
    problems = _problems(result)
    keys = [problem.split("'")[1] for problem in problems]
    assert keys == ["data.seed", "data.train_snr_db", "iemocap_root", "musan_root"]
    assert not (tmp_path / "results").exists()


def test_an_empty_corpus_root_on_the_command_line_is_called_empty(tmp_path, corpus_roots):
    roots = fixture_roots(corpus_roots, iemocap_root="")
    result = snakemake(tmp_path, "-n", *paper_config(roots), check=False)
    assert result.returncode != 0
    assert _problems(result) == [
        "config key 'iemocap_root' is empty (given no value, as `--config iemocap_root=` gives "
        "it); expected a string: Root of IEMOCAP (the folder holding Session1 .. Session5)"
    ]


def test_speakers_that_do_not_match_the_corpus_stop_the_plan(tmp_path, corpus_roots):
    """A damaged copy of the fixture corpus (one speaker's audio gone) and a speaker list that
    leaves speakers of the corpus out: one line each at plan time, not a traceback at
    ingestion. Nothing of the corpus is written to."""
    damaged = tmp_path / "IEMOCAP"
    shutil.copytree(corpus_roots / "IEMOCAP", damaged)
    for wav in (damaged / "Session2" / "sentences" / "wav").rglob("*_F0*.wav"):
        wav.unlink()
    listing = sorted(str(p) for p in damaged.rglob("*"))
    result = snakemake(
        tmp_path,
        "-n",
        *paper_config(fixture_roots(corpus_roots, iemocap_root=damaged)),
        check=False,
    )
    assert result.returncode != 0
    (problem,) = _problems(result)
    assert problem.startswith(
        f"config key 'speakers': Ses02F has no audio under iemocap_root '{damaged}'"
    )
    assert "Set speakers to the corpus's speakers (Ses01F, Ses01M, Ses02M, Ses03F" in problem
    assert sorted(str(p) for p in damaged.rglob("*")) == listing
    subset = "speakers=[Ses01F, Ses01M, Ses02F, Ses02M]"
    result = snakemake(
        tmp_path, "-n", *paper_config(fixture_roots(corpus_roots), subset), check=False
    )
    (problem,) = _problems(result)
    assert "Ses03F, Ses03M, Ses04F, Ses04M, Ses05F, Ses05M have audio but no fold" in problem
    assert not (tmp_path / "results").exists()


def test_real_data_paths_without_the_paper_config_are_refused(tmp_path):
    """Forgetting --configfile config/paper.yaml while the real roots are missing (a typo, an
    unmounted disk) would write the demo's synthetic corpus there and run the demo."""
    work = tmp_path / "work"
    work.mkdir()
    mount = tmp_path / "mnt" / "musan"
    mount.mkdir(parents=True)  # a mount point, disk not mounted
    roots = (f"iemocap_root={tmp_path / 'data' / 'IEMOCAP_full_release'}", f"musan_root={mount}")
    result = snakemake(work, "-n", "--config", *roots, check=False)
    assert result.returncode != 0
    iemocap, musan = _problems(result)
    assert iemocap.startswith("config key 'iemocap_root': ") and "does not exist" in iemocap
    assert musan.startswith(f"config key 'musan_root': '{mount}' is empty and lies outside")
    for problem in (iemocap, musan):
        assert "For the real study add --configfile config/paper.yaml" in problem
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "mnt",
        "mnt/musan",
        "work",
    ]
    # The embedded default's roots are relative, in the working directory: planned as always.
    assert planned_jobs(work, targets=("data",))["synth_corpus"] == 1


def test_a_report_before_the_results_says_to_run_the_workflow_first(tmp_path):
    result = snakemake(tmp_path, "--report", "report.html", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "snakemake --report: the study has not run to its end in" in output
    assert "run the workflow first (the same command without --report)" in output
    assert "Missing metadata" not in output and "marked for report but does not exist" not in output
    assert not (tmp_path / "report.html").exists()


def test_a_config_file_that_is_not_yaml_is_located_with_verbose(tmp_path):
    """Snakemake reads --configfile before the Snakefile, and its message names neither the file
    nor the line; with --verbose (docs/configuration.md) its traceback names both."""
    bad = tmp_path / "mine.yaml"
    bad.write_text("iemocap_root: /data/IEMOCAP\nspeakers: [Ses01F, Ses01M\nmusan_root: x\n")
    result = snakemake(tmp_path, "-n", "--configfile", str(bad), check=False)
    assert "Config file is not valid JSON or YAML" in result.stdout + result.stderr
    result = snakemake(tmp_path, "-n", "--verbose", "--configfile", str(bad), check=False)
    assert result.returncode != 0
    assert f'in "{bad}", line 2, column 11' in result.stdout + result.stderr


def test_test_config_is_valid_and_small(tmp_path):
    jobs = planned_jobs(tmp_path, "--configfile", str(TEST_CONFIG), targets=("data",))
    assert jobs["mix_corpus"] == 8 and jobs["make_fold"] == 10


def _planned_inputs(result) -> dict[str, set[str]]:
    """Inputs of each planned job of a dry run, by the job's first output."""
    inputs, current = {}, None
    for line in (result.stdout + result.stderr).splitlines():
        line = line.strip()
        if line.startswith("input: "):
            current = set(line.removeprefix("input: ").split(", "))
        elif line.startswith("output: ") and current is not None:
            inputs[line.removeprefix("output: ").split(", ")[0]] = current
            current = None
    return inputs


def test_local_model_folders_are_inputs_of_the_jobs_that_load_them(tmp_path, corpus_roots):
    """New weights in a local encoder or BERT folder rerun the jobs that load them (a hub model
    is pinned by its name): the baselines never load the BERT, so they do not depend on it."""
    for name in ("my_encoder", "my_bert"):
        (tmp_path / name).mkdir()
        for file in ("config.json", "model.safetensors"):
            (tmp_path / name / file).write_text("{}")
    models = {kind: f"results/models/{kind}-clean/Ses01F/{{}}" for kind in ("asr", "ser", "joint")}
    local_models = (
        "encoder={'name_or_path': './my_encoder', 'pretrain_demo': False}",
        "bert={'name_or_path': './my_bert'}",
    )
    result = snakemake(
        tmp_path,
        "-n",
        *paper_config(fixture_roots(corpus_roots), *local_models),
        targets=(
            *(path.format("history.csv") for path in models.values()),
            "results/tables/start_encoder_wer.json",
        ),
    )
    inputs = _planned_inputs(result)
    encoder = {"my_encoder/config.json", "my_encoder/model.safetensors"}
    bert = {"my_bert/config.json", "my_bert/model.safetensors"}
    for kind, path in models.items():
        job_inputs = inputs[path.format("model")]
        assert encoder <= job_inputs
        assert (bert <= job_inputs) == (kind == "joint"), kind
    assert encoder <= inputs["results/start_encoder/clean_predictions.csv"]


# ------------------------------------------------------------------------------ hub models
def _job_reasons(result) -> dict[str, str]:
    """The reason line of each planned job, by its first output."""
    reasons, output = {}, None
    for line in (result.stdout + result.stderr).splitlines():
        line = line.strip()
        if line.startswith("output: "):
            output = line.removeprefix("output: ").split(", ")[0]
        elif line.startswith("reason: ") and output is not None:
            reasons[output] = line
            output = None
    return reasons


def test_a_prefilled_models_folder_needs_no_fetch_and_every_job_loads_it(tmp_path, corpus_roots):
    """Hub ids in the config, their folders filled by hand: nothing is fetched, online or
    offline, and each training and evaluation job takes the folder of what it loads as input."""
    roots = fixture_roots(corpus_roots)
    for env in (None, ONLINE):
        jobs = planned_jobs(tmp_path, *paper_config(roots), env=env)
        assert "fetch_model" not in jobs and jobs["train_model"] == 60, env
    models = {kind: f"results/models/{kind}-clean/Ses01F/history.csv" for kind in ("asr", "joint")}
    evaluations = {
        kind: f"results/eval/{kind}-clean/Ses01F/clean/metrics.json" for kind in ("asr", "joint")
    }
    result = snakemake(
        tmp_path,
        "-n",
        *paper_config(roots),
        targets=(*models.values(), *evaluations.values(), "results/tables/start_encoder_wer.json"),
    )
    inputs = _planned_inputs(result)
    encoder = str(corpus_roots / "models" / ENCODER_ID)
    bert = str(corpus_roots / "models" / "bert-base-uncased")
    for kind in ("asr", "joint"):
        training = inputs[f"results/models/{kind}-clean/Ses01F/model"]
        evaluation = inputs[f"results/eval/{kind}-clean/Ses01F/clean/predictions.csv"]
        assert encoder in training
        assert (bert in training) == (bert in evaluation) == (kind == "joint"), kind
    assert encoder in inputs["results/start_encoder/clean_predictions.csv"]
    # The target that fills the folders has nothing to do.
    assert planned_jobs(tmp_path, *paper_config(roots), targets=("fetch_models",)) == {}


def test_a_missing_models_folder_while_offline_fails_the_plan_in_one_line(tmp_path, corpus_roots):
    empty = tmp_path / "no_models"
    result = snakemake(
        tmp_path, "-n", *paper_config(fixture_roots(corpus_roots, models_dir=empty)), check=False
    )
    assert result.returncode != 0
    message = result.stdout + result.stderr
    lines = [line for line in message.splitlines() if "config key" in line]
    assert len(lines) == 1
    line = lines[0]
    assert f"config key 'encoder.name_or_path': the models folder '{empty / ENCODER_ID}'" in line
    assert "is missing and the hub is offline" in line
    # The command repeats this run's options (the corpus roots are checked by its parse too).
    command = (
        f"snakemake fetch_models --configfile {PAPER_CONFIG} --config "
        f"iemocap_root={corpus_roots / 'IEMOCAP'} musan_root={corpus_roots / 'musan'} "
        f"models_dir={empty}"
    )
    assert f"run `{command}` on a machine with internet access" in line
    assert f"hf download {ENCODER_ID} --revision main --local-dir {empty / ENCODER_ID}" in line
    assert not (tmp_path / "results").exists()


def test_online_the_hub_models_are_fetched_before_any_job_that_loads_them(tmp_path, corpus_roots):
    empty = tmp_path / "no_models"
    options = paper_config(fixture_roots(corpus_roots, models_dir=empty))
    jobs = planned_jobs(tmp_path, *options, env=ONLINE)
    assert jobs["fetch_model"] == 2 and jobs["train_model"] == 60
    result = snakemake(
        tmp_path,
        "-n",
        *options,
        targets=("results/models/joint-clean/Ses01F/history.csv",),
        env=ONLINE,
    )
    reasons = _job_reasons(result)
    for hub_id in (ENCODER_ID, "bert-base-uncased"):
        assert str(empty / hub_id) in reasons["results/models/joint-clean/Ses01F/model"]
        assert reasons[str(empty / hub_id)] == f"reason: Missing output files: {empty / hub_id}"
    assert not empty.exists()  # a dry run fetches nothing


def test_a_half_filled_models_folder_fails_the_plan_online_too(tmp_path, corpus_roots):
    models = tmp_path / "models"
    shutil.copytree(corpus_roots / "models", models)
    weights = models / "bert-base-uncased" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: 1 << 20])
    options = paper_config(fixture_roots(corpus_roots, models_dir=models))
    result = snakemake(tmp_path, "-n", *options, check=False, env=ONLINE)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert (
        f"the models folder '{models / 'bert-base-uncased'}' of 'bert-base-uncased' is " in message
    )
    assert "is incomplete (model.safetensors is 1048576 bytes, its header says " in message
    assert "so it is never loaded: remove it and run `snakemake fetch_models" in message
    assert weights.stat().st_size == 1 << 20  # the user's folder is left as it is


def test_fetch_models_fetches_once_and_again_only_for_another_revision(tmp_path, corpus_roots):
    """The fetch_model jobs run for real, against a stand-in of the hub (tests/fake_hub.py)
    installed into the Snakemake process."""
    hub = tmp_path / "hub"
    shutil.copytree(corpus_roots / "models", hub)
    models = tmp_path / "models"
    options = paper_config(fixture_roots(corpus_roots, models_dir=models))
    stub = {
        **ONLINE,
        "ASRSER_FAKE_HUB": str(hub),
        "PYTHONPATH": os.pathsep.join(
            [str(REPO / "tests" / "hub_stub"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    snakemake(tmp_path, *options, "--cores", "1", targets=("fetch_models",), env=stub)
    for hub_id in (ENCODER_ID, "bert-base-uncased"):
        folder = models / hub_id
        record = read_fetch_record(folder)
        assert record["hub_id"] == hub_id and record["revision"] == "main"
        assert len(record["commit"]) == 40
        files = {path.name for path in folder.iterdir() if not path.name.startswith(".")}
        assert FETCH_RECORD in files and "model.safetensors" in files
        assert not files & {"pytorch_model.bin", "tf_model.h5", "flax_model.msgpack", "README.md"}
        assert (tmp_path / "logs" / "models" / f"{hub_id}.log").is_file()
    # Fetched once: the study plans no fetch, online or offline.
    assert "fetch_model" not in planned_jobs(tmp_path, *options, env=stub)
    assert "fetch_model" not in planned_jobs(tmp_path, *options)
    # Another revision of the BERT refetches the BERT alone, online; offline it cannot.
    revision = ("bert={'revision': 'v2'}",)
    assert planned_jobs(tmp_path, *options, *revision, targets=("fetch_models",), env=stub) == {
        "fetch_model": 1,
        "fetch_models": 1,
    }
    result = snakemake(tmp_path, "-n", *options, *revision, check=False)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "holds revision 'main'" in message and "asks for 'v2'" in message
