"""The rehearsal's own parts (tests/rehearsal/): its corpus, and how it reads Snakemake's output.
The rehearsal itself is `make rehearsal` (minutes of full-size training), not a test."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent / "rehearsal"))

import corpus  # noqa: E402
from run_rehearsal import EXPECTED_JOBS, JobLog, check_jobs, job_name, snakemake_command  # noqa: E402

from asrser.data.folds import split_valid  # noqa: E402
from asrser.data.iemocap import parse_iemocap  # noqa: E402

PAPER = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "paper.yaml").read_text())
FOLD = "Ses01F"


def test_the_long_utterance_is_validated_in_the_rehearsed_fold_never_trained_on():
    utterances = corpus.iemocap_utterances(PAPER["data"]["merge_exc_into_hap"])
    long_id = corpus.long_utterance(PAPER, FOLD)
    pool = utterances[utterances["speaker"] != FOLD]
    train, valid = split_valid(pool, PAPER["data"]["valid_fraction"], PAPER["data"]["seed"], FOLD)
    assert long_id in valid and long_id not in train
    seconds = corpus.durations(PAPER, FOLD)
    assert seconds[long_id] == corpus.LONG_SECONDS > 30
    assert seconds[long_id] <= PAPER["data"]["max_utterance_seconds"]  # kept whole
    others = [value for utt, value in seconds.items() if utt != long_id]
    assert min(others) >= corpus.MIN_SECONDS and max(others) <= corpus.MAX_SECONDS
    # Every speaker has each IEM4 emotion (hap twice: its exc utterance is merged in).
    assert (utterances.groupby("speaker")["emotion"].nunique() == 4).all()


def test_the_corpus_parses_whole_with_its_durations(tmp_path):
    written = corpus.write_corpora(tmp_path, PAPER, FOLD)
    manifest, _ = parse_iemocap(written["iemocap_root"], expected_speakers=PAPER["speakers"])
    assert len(manifest) == written["utterances"] == 50
    parsed = dict(zip(manifest["utt_id"], manifest["duration"], strict=True))
    for utt, seconds in written["durations"].items():
        assert abs(parsed[utt] - seconds) < 0.01, utt
    assert (tmp_path / "musan" / "noise").is_dir()


# What Snakemake 9 prints about the jobs it runs (abridged): a training, an evaluation started
# beside it, and the data stage's jobs.
OUTPUT = """\
[Mon Dec  7 05:11:33 2026]
localrule make_fold:
    input: results/data/iemocap.csv
    output: results/data/folds/Ses01F/train_clean.csv
    jobid: 5
    reason: Missing output files: results/data/folds/Ses01F/train_clean.csv
    resources: tmpdir=/tmp
[Mon Dec  7 05:11:34 2026]
Finished jobid: 5 (Rule: make_fold)
[Mon Dec  7 05:11:35 2026]
localrule train_model:
    output: results/models/ser-noisy/Ses01F/model
    jobid: 3
    wildcards: model=ser, train=noisy, fold=Ses01F
[Mon Dec  7 05:13:35 2026]
localrule evaluate_condition:
    jobid: 9
[Mon Dec  7 05:14:35 2026]
Finished jobid: 3 (Rule: train_model)
[Mon Dec  7 05:14:55 2026]
Finished jobid: 9 (Rule: evaluate_condition)
"""


def test_job_counts_durations_and_concurrency_are_read_from_snakemakes_output():
    jobs = JobLog()
    finished = [jobs.feed(line) for line in OUTPUT.splitlines(keepends=True)]
    assert [rule for rule in finished if rule] == ["make_fold", "train_model", "evaluate_condition"]
    assert jobs.finished == {"make_fold": 1, "train_model": 1, "evaluate_condition": 1}
    assert jobs.seconds == {"make_fold": 1, "train_model": 180, "evaluate_condition": 80}
    assert jobs.running == {}
    assert jobs.beside_heavy == 1 and jobs.beside_heavy_example == "evaluate_condition, train_model"
    problems = check_jobs(jobs)
    assert len(problems) == 2
    assert problems[0].startswith("jobs run per rule: {'evaluate_condition': 1,")
    assert "ran beside 1 other job(s)" in problems[1]


def test_the_expected_jobs_pass_and_scripts_are_named_by_their_rule():
    jobs = JobLog()
    jobs.finished.update(EXPECTED_JOBS)
    assert check_jobs(jobs) == []
    assert sum(EXPECTED_JOBS.values()) == 60
    command = "/venv/bin/python3.11 /w/run/.snakemake/scripts/tmpu_bijgm0.train_model.py"
    assert job_name(command) == "train_model"
    assert job_name("/venv/bin/python3.11 /venv/bin/snakemake fold_Ses01F") == "snakemake"


def test_the_rehearsal_asks_for_one_job_per_evaluation_whatever_auto_would_pick():
    # On a local CPU run, paper.yaml's `evaluation.jobs: auto` packs a fold into one job; the
    # rehearsal must build the cluster's 42 evaluation jobs all the same.
    prepared = {"iemocap_root": "/c/I", "musan_root": "/c/M", "models_dir": "/m"}
    command = snakemake_command(Path("/w"), prepared)
    assert "evaluation={'jobs': 'per_evaluation'}" in command
    assert command.index("evaluation={'jobs': 'per_evaluation'}") > command.index("--config")
    assert EXPECTED_JOBS["evaluate_condition"] == 6 * 7
    assert "evaluate_fold" not in EXPECTED_JOBS
