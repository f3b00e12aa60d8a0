"""Snakemake's parsed command line, for the decisions the Snakefile makes while it is parsed.

Snakemake parses the Snakefile before it sets up the executor (its API builds the workflow, then
the DAG, then runs the executor; checked with snakemake 9.27): while the Snakefile is parsed,
`workflow.executor_plugin` is None and `workflow.local_exec` is True whatever --executor or a
profile says, and the targets and --report are not on the workflow yet. The parsed command line
(profiles applied) is: it is the namespace held by snakemake.cli.args_to_api, the function that
has the Snakefile parsed, and is read here from the call stack. Where Snakemake runs from its
Python API there is no command line, and `command_line` returns None.
"""

from __future__ import annotations

import sys
from argparse import Namespace

LOCAL_EXECUTORS = ("local", "dryrun", "touch")


def command_line() -> Namespace | None:
    """The namespace snakemake.cli parsed (options of profiles included), or None."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "args_to_api" and frame.f_globals.get("__name__") == (
            "snakemake.cli"
        ):
            args = frame.f_locals.get("args")
            return args if isinstance(args, Namespace) else None
        frame = frame.f_back
    return None


def executor(args: Namespace | None) -> str:
    """The executor the run was given (--executor or a profile's `executor`): "local" when none
    was, or when there is no command line."""
    return str(getattr(args, "executor", None) or "local")


def job_rules(args: Namespace | None) -> frozenset[str]:
    """In a process Snakemake started to run jobs (a Slurm job re-parsing the Snakefile): the
    rules of those jobs (--target-jobs); empty in the process that plans the run."""
    return frozenset(spec.rulename for spec in (getattr(args, "target_jobs", None) or ()))


def report_without_run(args: Namespace | None) -> bool:
    """Whether this run only makes the report (--report without --report-after-run)."""
    return bool(getattr(args, "report", None)) and not getattr(args, "report_after_run", False)


def targets(args: Namespace | None) -> list[str]:
    """The targets given on the command line (none: the default target)."""
    return list(getattr(args, "targets", None) or ())
