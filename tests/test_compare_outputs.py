"""tests/cluster/compare_outputs.py, which judges make test-cluster: exact by default, within a
tolerance when asked (images then by size), and the extent of a difference printed last."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def load_compare_outputs():
    path = ROOT / "tests" / "cluster" / "compare_outputs.py"
    spec = importlib.util.spec_from_file_location("compare_outputs", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def write_run(run: Path, probability: float, weight: float, curve: list[float]) -> None:
    folder = run / "results" / "eval" / "ser-clean"
    folder.mkdir(parents=True)
    (folder / "predictions.csv").write_text(
        f"utt_id,pred_emotion,prob_ang,inference_s\nu1,ang,{probability},0.{len(curve)}\n"
    )
    save_file({"w": torch.full((3,), weight)}, str(folder / "model.safetensors"))
    figure, axes = plt.subplots(figsize=(2, 2))
    axes.plot(curve)
    figure.savefig(folder / "curves.png", dpi=50)
    plt.close(figure)


def test_exact_by_default_within_a_tolerance_when_asked(tmp_path, capsys):
    compare = load_compare_outputs()
    write_run(tmp_path / "a", 0.95207566, 0.5, [3.0, 2.0, 1.0])
    write_run(tmp_path / "b", 0.95218694, 0.5000001, [3.0, 2.1, 1.0, 0.5])  # timing differs too
    runs = [str(tmp_path / "a"), str(tmp_path / "b")]

    assert compare.main(runs) == 1
    out = capsys.readouterr().out
    for name in ("predictions.csv", "model.safetensors", "curves.png"):
        assert f"results/eval/ser-clean/{name}:" in out
    assert "inference_s" in out  # a timing: listed as not compared, never a difference
    # The extent comes last, where a log's tail shows it.
    assert out.rstrip().splitlines()[-2:] == [
        "DIFFERENT: 3 file(s) differ; by folder:",
        "      3  results/eval/ser-clean/",
    ]

    assert compare.main([*runs, "--rtol", "0.05", "--atol", "0.001"]) == 0
    assert "SAME: all 3 files equal" in capsys.readouterr().out


def test_a_tolerance_still_catches_what_is_not_noise(tmp_path, capsys):
    compare = load_compare_outputs()
    write_run(tmp_path / "a", 0.95, 0.5, [3.0, 2.0])
    write_run(tmp_path / "b", 0.35, 0.5, [3.0, 2.0])
    runs = [str(tmp_path / "a"), str(tmp_path / "b"), "--rtol", "0.05", "--atol", "0.001"]
    assert compare.main(runs) == 1
    assert "column prob_ang: '0.95' vs '0.35'" in capsys.readouterr().out


def test_when_and_how_long_a_model_trained_are_timings(tmp_path, capsys):
    """provenance.json records the training's date and duration beside its settings: the
    settings are compared, the clock is not."""
    compare = load_compare_outputs()
    for run, (at, seconds, lr) in {
        "a": ("05:43:52", 1.7, 1e-4),
        "b": ("05:45:36", 1.5, 1e-4),
    }.items():
        folder = tmp_path / run / "results" / "models" / "asr-clean" / "Ses01F" / "model"
        folder.mkdir(parents=True)
        (folder / "provenance.json").write_text(
            f'{{"trained_at": "2026-12-07T{at}Z", "training_seconds": {seconds}, '
            f'"settings": {{"lr_encoder": {lr}, "max_batch_seconds": 32.0}}}}'
        )
    runs = [str(tmp_path / "a"), str(tmp_path / "b")]
    assert compare.main(runs) == 0
    assert "trained_at, training_seconds" in capsys.readouterr().out
    provenance = tmp_path / "b" / "results" / "models" / "asr-clean" / "Ses01F" / "model"
    text = (provenance / "provenance.json").read_text()
    (provenance / "provenance.json").write_text(text.replace("32.0", "16.0"))
    assert compare.main(runs) == 1
    assert "max_batch_seconds" in capsys.readouterr().out
