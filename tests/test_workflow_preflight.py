"""`snakemake preflight` run for real on config/paper.yaml: IEMOCAP- and MUSAN-format fixtures,
a models folder filled by hand with tiny stand-ins of the paper's hub models, the hub offline,
and no GPU (CUDA_VISIBLE_DEVICES empty, whatever the machine has)."""

from __future__ import annotations

import pytest
from fixtures import make_iemocap_tree, make_musan_tree
from tiny_models import paper_hub
from workflow_helpers import PAPER_CONFIG, planned_jobs, snakemake

NO_GPU = {"CUDA_VISIBLE_DEVICES": ""}


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("preflight_inputs")
    make_iemocap_tree(root / "IEMOCAP", per_emotion=1, seconds=0.2, bad_cases=False)
    make_musan_tree(root / "musan", files_per_subset=1, seconds=0.2, bad_cases=False)
    paper_hub(root / "models")
    return {
        "iemocap_root": root / "IEMOCAP",
        "musan_root": root / "musan",
        "models_dir": root / "models",
    }


def paper_options(roots: dict, *config: str) -> tuple[str, ...]:
    settings = (f"{key}={value}" for key, value in roots.items())
    return ("--configfile", str(PAPER_CONFIG), "--config", *settings, *config)


def report_of(text: str) -> list[str]:
    """The report's lines in a job's output: from its heading to its verdict."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("asrser preflight on "))
    last = next(i for i in range(first, len(lines)) if lines[i].startswith("preflight "))
    return lines[first : last + 1]


def test_preflight_reports_every_check_and_runs_each_time_it_is_asked_for(tmp_path, roots):
    passed = snakemake(
        tmp_path,
        *paper_options(roots, "device=cpu"),
        "--cores",
        "1",
        targets=("preflight",),
        env=NO_GPU,
    )
    report = report_of(passed.stdout + passed.stderr)
    assert report[1].startswith("  GPU     skipped  skipped (device cpu): the jobs run on the CPU")
    topics = [line.split()[0] for line in report[1:-1]]
    assert topics == ["GPU", "models", "models", "disk", "corpus", "corpus"]
    assert all(line.split()[1] in ("ok", "skipped") for line in report[1:-1])
    assert report[-1] == "preflight passed (5 ok, 0 warning, 1 skipped, 0 failed)"
    log = tmp_path / "logs" / "preflight.log"
    assert log.read_text().splitlines() == report
    # The paper config as it is (device cuda), on a node without a GPU: the job fails with the
    # GPU's one-line error among the other checks, and runs again although nothing changed.
    failed = snakemake(
        tmp_path,
        *paper_options(roots),
        "--cores",
        "1",
        targets=("preflight",),
        env=NO_GPU,
        check=False,
    )
    assert failed.returncode != 0
    report = report_of(failed.stdout + failed.stderr)
    gpu = report[1]
    assert gpu.startswith(
        "  GPU     FAILED   config key 'device' is 'cuda' but no CUDA GPU is visible"
    )
    assert "To fix:" in gpu and "torch" in gpu
    assert [line.split()[0] for line in report[1:-1]] == topics
    assert report[-1].endswith("1 failed): fix GPU, then run it again")
    assert log.read_text().splitlines() == report
    assert not (tmp_path / "results").exists()


def test_preflight_is_no_part_of_the_study(tmp_path, roots):
    jobs = planned_jobs(tmp_path, *paper_options(roots))
    assert jobs["train_model"] == 60 and "preflight" not in jobs
