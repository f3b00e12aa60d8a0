"""evaluation.jobs auto: what it picks for a run, and Snakemake's command line it reads."""

from __future__ import annotations

from argparse import Namespace

import pytest
from snakemake.resources import Resource
from snakemake.target_jobs import TargetSpec

from asrser.evaluation.packing import EVALUATION_RULES, choose_packing, declared_resource
from asrser.runtime import snakemake_cli


@pytest.mark.parametrize("packing", ["per_evaluation", "per_model", "per_fold"])
def test_an_explicit_packing_is_kept_wherever_the_jobs_go(packing):
    for executor in ("local", "slurm"):
        assert choose_packing(packing, executor=executor, job_gpus=1)[0] == packing
    rules = frozenset({"evaluate_condition"})
    assert choose_packing(packing, job_rules=rules)[0] == packing


def test_auto_picks_by_executor_then_by_the_gpus_the_jobs_ask_for():
    assert choose_packing("auto", executor="slurm", job_gpus=1) == (
        "per_evaluation",
        "auto: jobs go to the slurm executor",
    )
    assert choose_packing("auto", executor="cluster-generic", job_gpus=0)[0] == "per_evaluation"
    for local in ("local", "dryrun", "touch"):
        assert choose_packing("auto", executor=local, job_gpus=1)[0] == "per_model"
        assert choose_packing("auto", executor=local, job_gpus=0)[0] == "per_fold"
    # A declared gpu resource of 0 holds the jobs to none; a declared one does not add GPUs to
    # jobs that ask for none.
    assert choose_packing("auto", job_gpus=1, declared_gpus=0)[0] == "per_fold"
    assert choose_packing("auto", job_gpus=0, declared_gpus=1)[0] == "per_fold"
    assert choose_packing("auto", job_gpus=1, declared_gpus=2)[0] == "per_model"


@pytest.mark.parametrize(("packing", "rule"), sorted(EVALUATION_RULES.items()))
def test_a_job_process_takes_the_packing_its_job_was_submitted_with(packing, rule):
    """Inside a Slurm job the executor is Slurm's job step and the GPUs those of the job: the
    rule named by the job decides, whatever auto would pick there."""
    for executor in ("slurm-jobstep", "local"):
        for gpus in (0, 1):
            chosen, why = choose_packing(
                "auto", executor=executor, job_rules=frozenset({rule}), job_gpus=gpus
            )
            assert chosen == packing and why == f"auto: this job was submitted as {rule}"
    # A job of another rule has no evaluation rule to match (and runs no evaluation).
    assert choose_packing("auto", job_rules=frozenset({"train_model"}), job_gpus=0)[0] == (
        "per_fold"
    )


def test_a_declared_resource_is_read_from_snakemakes_resources():
    assert (
        declared_resource({"gpu": Resource("gpu", 1), "_cores": Resource("_cores", 8)}, "gpu") == 1
    )
    assert declared_resource({"gpu": Resource("gpu", 0)}, "gpu") == 0
    assert declared_resource({"gpu": 2}, "gpu") == 2
    assert declared_resource({"_cores": Resource("_cores", 8)}, "gpu") is None
    assert declared_resource(None, "gpu") is None


def test_the_command_line_is_none_outside_snakemakes_cli():
    assert snakemake_cli.command_line() is None
    assert snakemake_cli.executor(None) == "local"
    assert snakemake_cli.job_rules(None) == frozenset()
    assert snakemake_cli.targets(None) == [] and not snakemake_cli.report_without_run(None)


def test_the_command_line_is_found_in_the_frame_that_parses_the_snakefile():
    """snakemake.cli.args_to_api holds the parsed options while it has the Snakefile parsed;
    a function of that name and module stands in for it here (the workflow tests run the real
    one)."""
    args = Namespace(
        executor="slurm",
        target_jobs=[TargetSpec("evaluate_model", {"fold": "Ses01F"})],
        report="report.html",
        report_after_run=False,
        targets=["fold_Ses01F"],
    )
    namespace = {"__name__": "snakemake.cli", "snakemake_cli": snakemake_cli}
    exec("def args_to_api(args):\n    return snakemake_cli.command_line()\n", namespace)
    found = namespace["args_to_api"](args)
    assert found is args
    assert snakemake_cli.executor(found) == "slurm"
    assert snakemake_cli.job_rules(found) == frozenset({"evaluate_model"})
    assert snakemake_cli.report_without_run(found)
    assert not snakemake_cli.report_without_run(Namespace(report="r.html", report_after_run=True))
    assert snakemake_cli.targets(found) == ["fold_Ses01F"]
