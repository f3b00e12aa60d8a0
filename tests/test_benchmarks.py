"""The benchmarks still run (no figure is asserted: speed targets live in the benchmarks, never in
tests). Each runs at its smallest size, as `make bench` would run it in full."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from workflow_helpers import REPO

BENCHMARKS = REPO / "benchmarks"
SMALLEST = {
    "bench_mixing.py": ["--utterances", "6", "--noise-files", "2", "--workers", "1"],
    "bench_training.py": ["--utterances", "8", "--warmup", "1", "--steps", "1", "--threads", "1"],
    "bench_evaluation.py": ["--utterances", "4", "--conditions", "1"],
    "bench_prediction_resume.py": ["--files", "12"],
    "bench_hierarchical_coverage.py": [
        *("--studies", "2", "--utterances", "40", "--resamples", "20", "--seeds", "1", "2"),
    ],
    "bench_significance.py": ["--utterances", "200", "--resamples", "50", "--seeds", "2"],
    "bench_corpus_stamp.py": [
        *("--utterances", "200", "--dialogs", "10", "--unread", "1", "--musan-files", "30"),
        *("--repeats", "1", "--no-plan"),
    ],
    "bench_paper_size.py": ["--tiny", "--models", "joint", "--seconds", "3", "--threads", "1"],
    # These two measure the finished demo (minutes of work): only their arguments are parsed.
    "bench_pretrain_budget.py": ["--help"],
    "bench_segmentation.py": ["--help"],
    "bench_seed_spread.py": ["--help"],  # its arithmetic: the test below
}


def test_every_benchmark_is_covered():
    assert {path.name for path in BENCHMARKS.glob("bench_*.py")} == set(SMALLEST)


@pytest.mark.parametrize("name", sorted(SMALLEST))
def test_benchmark_runs(name, tmp_path):
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TMPDIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *SMALLEST[name]],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "a benchmark prints its figures"


def test_seed_spread_pairs_the_seeds_and_pools_the_noisy_conditions(tmp_path):
    from synthetic_predictions import write_synthetic_predictions

    sys.path.insert(0, str(BENCHMARKS))
    try:
        from bench_seed_spread import seed_gains, spread
    finally:
        sys.path.remove(str(BENCHMARKS))
    from asrser.report.aggregate import load_predictions, score_predictions

    paths = write_synthetic_predictions(tmp_path, training_seeds=(0, 1, 2), joint_error=0.5)
    predictions = load_predictions(paths)
    gains = seed_gains(predictions)
    assert len(gains) == 2 * 2 * 3  # train x (clean, noisy pooled) x seed
    # One cell recomputed by hand: seed 1, clean-trained, the noisy conditions pooled.
    noisy = predictions[
        (predictions["seed"] == 1)
        & (predictions["train"] == "clean")
        & (predictions["condition"] != "clean")
    ]
    asr = score_predictions(noisy[noisy["model"] == "asr"], "asr")["wer"]
    joint = score_predictions(noisy[noisy["model"] == "joint"], "joint")["wer"]
    row = gains[(gains["seed"] == 1) & (gains["train"] == "clean") & (gains["speech"] != "clean")]
    assert row["WER, ASR - joint (pts)"].item() == pytest.approx(100 * (asr - joint))
    # The synthetic joint model makes at most the baselines' word errors, fewer on the whole.
    assert (gains["WER, ASR - joint (pts)"] >= 0).all()
    assert gains["WER, ASR - joint (pts)"].mean() > 0
    summary = spread(gains)
    assert (summary[("seeds", "")] == 3).all()
    cell = summary.loc[("clean", "clean"), ("accuracy, joint - SER (pts)", "mean")]
    clean = gains[(gains["train"] == "clean") & (gains["speech"] == "clean")]
    assert cell == pytest.approx(clean["accuracy, joint - SER (pts)"].mean())
