"""Snakemake script: the preflight of the node this job runs on (asrser.runtime.preflight).

params: layout (where the run writes: asrser.runtime.preflight.RunLayout's fields), fetch_command (what
        fills the models folder, with this run's options)
log:    the report, which is printed too; the job fails when a check failed
"""

import logging
import socket
import sys
import time

import torch

from asrser.common.io import atomic_path
from asrser.runtime.preflight import RunLayout, failures, report, run_preflight

logging.basicConfig(level=logging.WARNING)
torch.set_num_threads(snakemake.threads)
layout = snakemake.params.layout
checks = run_preflight(
    snakemake.config,
    RunLayout(
        results=layout["results"],
        trained_model=layout["trained_model"],
        corpus_manifests=tuple(layout["corpus_manifests"]),
    ),
    snakemake.params.fetch_command,
)
text = report(checks, f"{socket.gethostname()}, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
with atomic_path(snakemake.log[0]) as tmp:
    tmp.write_text(text, encoding="utf-8")
print(text, end="", flush=True)
sys.exit(1 if failures(checks) else 0)
