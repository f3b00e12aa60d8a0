"""End to end on the test config: the whole study (data, pretraining, 60 trainings, 420
evaluations, report) in a temporary directory, then partial reruns of one fold."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from workflow_helpers import TEST_CONFIG, planned_jobs, snakemake

from asrser import MODEL_TYPES, TEST_CONDITIONS, TRAIN_CONDITIONS
from asrser.report import FIGURE_FILES, TABLE_FILES

pytestmark = pytest.mark.slow
CONFIG = ("--configfile", str(TEST_CONFIG))
FOLDS = [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"]


@pytest.fixture(scope="module")
def data_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("data_stage")
    snakemake(workdir, *CONFIG, "--cores", "2", targets=("data",))
    return workdir


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("study")
    snakemake(workdir, *CONFIG, "--cores", "2")
    return workdir


def test_data_stage_outputs(data_run):
    data = data_run / "results" / "data"
    iemocap = pd.read_csv(data / "iemocap.csv", keep_default_na=False)
    assert sorted(iemocap["speaker"].unique()) == sorted(FOLDS)
    assert set(iemocap["emotion"]) == {"ang", "hap", "sad", "neu"}
    for corpus in [*TEST_CONDITIONS, "train_noisy"]:
        frame = pd.read_csv(data / "corpora" / f"{corpus}.csv", keep_default_na=False)
        assert sorted(frame["utt_id"]) == sorted(iemocap["utt_id"])
    tested = []
    for fold in FOLDS:
        folder = data / "folds" / fold
        test = pd.read_csv(folder / "test_clean.csv")
        train = pd.read_csv(folder / "train_clean.csv")
        valid = pd.read_csv(folder / "valid_clean.csv")
        assert set(test["speaker"]) == {fold}
        assert fold not in set(train["speaker"]) | set(valid["speaker"])
        tested += test["utt_id"].tolist()
    assert sorted(tested) == sorted(iemocap["utt_id"])  # every utterance tested exactly once
    assert (data_run / "logs" / "data" / "ingest_iemocap.log").is_file()


def test_data_stage_is_up_to_date_after_a_run(data_run):
    assert planned_jobs(data_run, *CONFIG, targets=("data",)) == {}
    # Restating a value on the command line (it moves to the front of its section, typed 3 or
    # 5.0 where the file says 3.0 or 5) changes nothing, nor does a key the demo corpus's
    # synthesis does not read.
    restated = ("synthetic={musan_file_seconds: 3, pretrain_utterances: 41}",)
    restated += ("data={train_snr_db: [5.0, 35]}",)
    assert planned_jobs(data_run, *CONFIG, "--config", *restated, targets=("data",)) == {}


def test_study_writes_every_model_evaluation_table_and_figure(study):
    for model in MODEL_TYPES:
        for train in TRAIN_CONDITIONS:
            for fold in FOLDS:
                folder = study / "results" / "models" / f"{model}-{train}" / fold
                assert (folder / "model" / "config.json").is_file()
                assert (folder / "model" / "model.safetensors").is_file()
                assert (folder / "curves.png").stat().st_size > 0
                history = pd.read_csv(folder / "history.csv")
                assert len(history) >= 1
                for condition in TEST_CONDITIONS:
                    evaluation = study / "results" / "eval" / f"{model}-{train}" / fold / condition
                    assert (evaluation / "predictions.csv").is_file()
                    assert (evaluation / "metrics.json").is_file()
                    assert (
                        study / "logs" / "eval" / f"{model}-{train}" / fold / f"{condition}.log"
                    ).is_file()
    for name in TABLE_FILES:
        assert (study / "results" / "tables" / name).stat().st_size > 0
    for name in FIGURE_FILES:
        assert (study / "results" / "figures" / name).stat().st_size > 0
    table = pd.read_csv(study / "results" / "tables" / "table1.csv")
    assert len(table) == 7
    # Every job removed its resume points, and the run's end removed their emptied parent.
    assert not (study / "results" / "checkpoints").exists()


def test_html_report(study):
    snakemake(study, *CONFIG, "--report", "results/report.html")
    html = (study / "results" / "report.html").read_text(errors="replace")
    assert "fig2a_asr.png" in html and "table1.md" in html


@pytest.mark.parametrize(
    ("setting", "retrained"),
    [
        ("train={'alpha': 0.2}", "joint"),
        ("bert={'finetune': True}", "joint"),
        ("train={'head_warmup_steps': 100}", "ser"),  # the joint model sets its own
    ],
)
def test_a_setting_of_one_model_type_replans_only_its_trainings(study, setting, retrained):
    result = snakemake(study, *CONFIG, "-n", "--config", setting)
    planned = result.stdout + result.stderr
    for model in MODEL_TYPES:
        expected = 20 if model == retrained else 0
        assert planned.count(f"wildcards: model={model}, ") == expected, (setting, model)


def test_a_new_ctc_head_replans_only_the_asr_and_joint_trainings(study):
    """train.ctc_head is no setting of the SER baseline (it has no CTC branch)."""
    result = snakemake(study, *CONFIG, "-n", "--config", "train={'ctc_head': 'new'}")
    planned = result.stdout + result.stderr
    for model in MODEL_TYPES:
        expected = 0 if model == "ser" else 20
        assert planned.count(f"wildcards: model={model}, ") == expected, model


@pytest.mark.parametrize(
    "setting",
    [
        "train={'encoder_overrides': {'apply_spec_augment': False}}",
        "data={'max_utterance_seconds': 40.0}",
    ],
)
def test_a_fidelity_switch_of_every_model_replans_the_trainings_not_the_data(study, setting):
    """The paper config's encoder override and longer utterances change what all three model
    types train on: their 60 trainings and what follows rerun, nothing before them."""
    jobs = planned_jobs(study, *CONFIG, "--config", setting)
    assert jobs["train_model"] == 60
    before_training = ("synth_corpus", "pretrain_encoder", "ingest_iemocap", "mix_corpus")
    assert not set(before_training + ("make_fold",)) & set(jobs)


def test_moving_the_checkpoint_root_reruns_nothing(study):
    moved = ("--config", "checkpoint_root=elsewhere/checkpoints")
    assert planned_jobs(study, *CONFIG, *moved) == {}
    assert not (study / "elsewhere").exists()  # checked, not created


def test_rerun_after_deleting_one_fold_touches_only_that_fold(study):
    for kind in ("models", "eval"):
        for run in (study / "results" / kind).iterdir():
            shutil.rmtree(run / "Ses03M")
    jobs = planned_jobs(study, *CONFIG, targets=("fold_Ses03M",))
    assert jobs == {"train_model": 6, "evaluate_fold": 1, "fold_Ses03M": 1}
    snakemake(study, *CONFIG, "--cores", "2", targets=("fold_Ses03M",))
    assert planned_jobs(study, *CONFIG, targets=("fold_Ses03M",)) == {}
    # Aggregation is refreshed on request (the text oracle reads every fold's joint models, so it
    # reruns with them); nothing of the other folds reruns.
    jobs = planned_jobs(study, *CONFIG, "--forcerun", "aggregate")
    assert set(jobs) <= {"aggregate", "text_oracle", "all"}


def test_a_training_keeps_its_resume_points_under_the_configured_root(study, tmp_path, monkeypatch):
    """checkpoint_root naming an environment variable (node-local scratch): the job expands it
    where it runs and keeps its resume points there; once the outputs exist its folder is gone
    and the root, the node's scratch, stays."""
    monkeypatch.setenv("ASRSER_TEST_SCRATCH", str(tmp_path))
    run = study / "results" / "models" / "ser-noisy" / "Ses05M"
    shutil.rmtree(run)
    root = ("--config", "checkpoint_root=$ASRSER_TEST_SCRATCH/asrser")
    target = ("results/models/ser-noisy/Ses05M/history.csv",)
    assert planned_jobs(study, *root, *CONFIG, targets=target) == {"train_model": 1}
    snakemake(study, *CONFIG, *root, "--cores", "2", targets=target)
    assert (run / "model" / "model.safetensors").is_file()
    # The job created <root>/ser-noisy/Ses05M; the run's end removed what the job emptied.
    assert (tmp_path / "asrser").is_dir() and not any((tmp_path / "asrser").iterdir())
    assert not (study / "results" / "checkpoints").exists()


def test_one_job_per_evaluation_writes_the_same_outputs(study):
    """evaluation.jobs per_evaluation, the paper config's packing (one model and one test
    condition a job; its single paths reach the script as plain strings). Last: the output it
    rewrites comes from another rule, so the default packing would then evaluate that fold again."""
    folder = study / "results" / "eval" / "asr-clean" / "Ses01F" / "noise5"
    predictions = (folder / "predictions.csv").read_bytes()
    wer = json.loads((folder / "metrics.json").read_text())["wer"]
    shutil.rmtree(folder)
    target = ("results/eval/asr-clean/Ses01F/noise5/metrics.json",)
    per_evaluation = ("--config", "evaluation={jobs: per_evaluation}")
    assert planned_jobs(study, *CONFIG, *per_evaluation, targets=target) == {
        "evaluate_condition": 1
    }
    snakemake(study, *CONFIG, *per_evaluation, "--cores", "2", targets=target)
    assert (folder / "predictions.csv").read_bytes() == predictions
    assert json.loads((folder / "metrics.json").read_text())["wer"] == wer
    log = study / "logs" / "eval" / "asr-clean" / "Ses01F" / "noise5.log"
    assert "imports done" in log.read_text()
