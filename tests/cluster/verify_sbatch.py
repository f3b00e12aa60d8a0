"""Check from a Snakemake run's output that every job really went through sbatch.

    python tests/cluster/verify_sbatch.py SNAKEMAKE_OUTPUT RUN_DIR

Every job Snakemake started (a "rule NAME:" block with "jobid: N") must have been submitted with
a Slurm job id ("Job N has been submitted with SLURM jobid S (log: ...)"), Slurm must have written
that job's log (.snakemake/slurm_logs/rule_NAME/WILDCARDS/S.log; run with
--slurm-keep-successful-logs) and squeue must report the last submission of every job COMPLETED
(the CI cluster keeps finished jobs for MinJobAge = 1 h). Nothing but the input-only target rules
(all, data, fold_*) may have been run by Snakemake itself ("localrule NAME:").
Exit status 0 when all holds, 1 otherwise.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

JOB_HEADER = re.compile(r"^rule (\w+):\n(?:    .*\n)*?    jobid: (\d+)$", re.M)
LOCAL_JOB = re.compile(r"^localrule (\w+):", re.M)
SUBMISSION = re.compile(
    r"^Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.?$", re.M
)
TARGET_RULES = re.compile(r"all|data|fold_\w+")


def slurm_states(slurm_ids: list[str]) -> dict[str, str]:
    """Slurm job id -> state as squeue reports it (finished jobs included)."""
    if not slurm_ids:
        return {}
    query = [
        "squeue",
        "--noheader",
        "--states=all",
        "--format=%i|%T",
        f"--jobs={','.join(slurm_ids)}",
    ]
    result = subprocess.run(query, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(query)} failed: {result.stderr.strip()}")
    return dict(line.split("|", 1) for line in result.stdout.split())


def verify(output: str, run_dir: Path) -> tuple[str, list[str]]:
    """A one-line summary and the list of problems found."""
    started = {jobid: rule for rule, jobid in JOB_HEADER.findall(output)}
    local = set(LOCAL_JOB.findall(output))
    submissions: dict[str, list[tuple[str, Path]]] = {}  # retries add submissions
    for jobid, slurm_id, log in SUBMISSION.findall(output):
        submissions.setdefault(jobid, []).append((slurm_id, Path(log)))

    problems = []
    if not started:
        problems.append("no job was started at all (was everything already up to date?)")
    for jobid, rule in sorted(started.items(), key=lambda item: int(item[0])):
        if jobid not in submissions:
            problems.append(f"job {jobid} (rule {rule}) has no 'submitted with SLURM jobid' line")
    slurm_ids = [slurm_id for subs in submissions.values() for slurm_id, _ in subs]
    for jobid, subs in submissions.items():
        for slurm_id, log in subs:
            log = log if log.is_absolute() else run_dir / log
            if not log.is_file() or log.stat().st_size == 0:
                problems.append(f"Slurm job {slurm_id} (job {jobid}): no Slurm log at {log}")
    states = slurm_states(slurm_ids)
    for jobid, subs in submissions.items():
        last = subs[-1][0]
        if states.get(last) != "COMPLETED":
            state = states.get(last, "unknown to squeue")
            problems.append(f"Slurm job {last} (job {jobid}, rule {started.get(jobid)}) is {state}")
    outside = sorted(rule for rule in local if not TARGET_RULES.fullmatch(rule))
    if outside:
        problems.append(f"rules run outside Slurm: {', '.join(outside)}")

    numbers = sorted(int(i) for i in slurm_ids) or [0]
    summary = (
        f"{len(started)} jobs ({', '.join(sorted(set(started.values())))}) went through sbatch as "
        f"{len(slurm_ids)} Slurm jobs (ids {numbers[0]}-{numbers[-1]}, "
        f"{sum(state == 'COMPLETED' for state in states.values())} COMPLETED in squeue); "
        f"target rules run by Snakemake itself: {', '.join(sorted(local)) or 'none'}"
    )
    return summary, problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    summary, problems = verify(Path(argv[0]).read_text(), Path(argv[1]))
    print(summary)
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
