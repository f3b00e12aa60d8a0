"""How the study's evaluations are packed into jobs: config key evaluation.jobs.

The 420 evaluations (60 trained models x 7 test conditions) write the same files in every packing;
what differs is the number of jobs and what each loads:

  per_evaluation  one job per (model, test condition), 420 jobs: a cluster runs them side by side
  per_model       one job per trained model, its 7 conditions, 60 jobs: one GPU machine loads each
                  model once
  per_fold        one job per fold, its 6 models on 7 conditions, 10 jobs: on a CPU machine a
                  job's start-up (imports) costs more than scoring a model

`auto` picks one for the run at hand, so that no profile needs a --config for it:
per_evaluation when the jobs go to a cluster (an executor other than the local one), per_model on
one machine whose training and evaluation jobs ask for a GPU, per_fold on one machine whose jobs
ask for none. A job process (a Slurm job re-parsing the Snakefile) takes the packing its job was
submitted with, whatever it would pick itself (its executor is Slurm's job step, not Slurm).
"""

from __future__ import annotations

from asrser.runtime.snakemake_cli import LOCAL_EXECUTORS

# The evaluation rule of each packing (rules/evaluate.smk).
EVALUATION_RULES = {
    "per_evaluation": "evaluate_condition",
    "per_model": "evaluate_model",
    "per_fold": "evaluate_fold",
}


def choose_packing(
    requested: str,
    *,
    executor: str = "local",
    job_rules: frozenset[str] = frozenset(),
    declared_gpus: int | None = None,
    job_gpus: int = 0,
) -> tuple[str, str]:
    """The packing to plan and why.

    requested: config key evaluation.jobs (a packing, or "auto"); executor: the run's executor
    (asrser.runtime.snakemake_cli.executor); job_rules: in a job process, the rules of its jobs;
    declared_gpus: the run's `gpu` resource (--resources gpu=N, a profile's resources), None when
    not declared; job_gpus: config key resources.gpu, the GPUs each training and evaluation job
    asks for.
    """
    if requested != "auto":
        return requested, "config key evaluation.jobs"
    for packing, rule in EVALUATION_RULES.items():
        if rule in job_rules:
            return packing, f"auto: this job was submitted as {rule}"
    if executor not in LOCAL_EXECUTORS:
        return "per_evaluation", f"auto: jobs go to the {executor} executor"
    gpus = job_gpus if declared_gpus is None else min(job_gpus, declared_gpus)
    if gpus >= 1:
        return "per_model", "auto: a local run whose jobs ask for a GPU"
    return "per_fold", "auto: a local run whose jobs ask for no GPU"


def declared_resource(global_resources, name: str) -> int | None:
    """A resource given to the run (workflow.global_resources: --resources, a profile's
    resources), None when not given."""
    value = global_resources.get(name) if global_resources is not None else None
    value = getattr(value, "value", value)  # snakemake 9 wraps values in Resource
    return None if value is None else int(value)
