"""Running the workflow from tests: snakemake in a temporary working directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
TEST_CONFIG = REPO / "config" / "test.yaml"
PAPER_CONFIG = REPO / "config" / "paper.yaml"
_JOB_COUNT = re.compile(r"^([A-Za-z_][\w]*)\s+(\d+)$")


def snakemake(
    workdir: Path,
    *args: str,
    targets: tuple[str, ...] = (),
    check: bool = True,
    timeout: int = 1500,
    env: dict[str, str] | None = None,
):
    """Run snakemake on the repo's Snakefile in `workdir`; return the CompletedProcess.

    Targets go first: options taking several values (--configfile, --config, --quiet) would
    swallow a target written after them. The hub is offline unless `env` says otherwise
    (HF_HUB_OFFLINE="0" and TRANSFORMERS_OFFLINE="0"), and then only a stand-in is reached
    (tests/hub_stub).
    """
    command = [
        str(SNAKEMAKE),
        *targets,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=env, cwd=workdir
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-5000:]}\n{result.stderr[-8000:]}"
        )
    return result


def planned_jobs(
    workdir: Path, *args: str, targets: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> Counter:
    """Jobs per rule of a dry run (`snakemake -n --quiet rules`)."""
    result = snakemake(workdir, "-n", "--quiet", "rules", *args, targets=targets, env=env)
    counts = Counter()
    for line in (result.stdout + result.stderr).splitlines():
        match = _JOB_COUNT.match(line.strip())
        if match and match.group(1) != "total":
            counts[match.group(1)] = int(match.group(2))
    return counts
