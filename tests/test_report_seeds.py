"""The results step over several training seeds, and unchanged with one."""

import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from synthetic_predictions import write_synthetic_predictions

from asrser import EMOTIONS, PREDICTION_COLUMNS
from asrser.common.io import write_csv
from asrser.common.run_names import run_name
from asrser.report import FIGURE_FILES, SEED_TABLE_FILES, TABLE_FILES, table_files, write_results
from asrser.report.aggregate import (
    confusion_counts,
    load_predictions,
    per_fold_metrics,
    pooled_metrics,
)
from asrser.report.figures import write_figures
from asrser.report.seeds import (
    HIERARCHICAL_TEST,
    bootstrap_conditions,
    fig2_intervals,
    seed_significance,
)
from asrser.report.significance import significance
from asrser.report.stats import holm
from asrser.report.table1 import TABLE1_COLUMNS, load_paper_table1, table1_from_metrics
from asrser.report.table1_render import write_table1

REPO = Path(__file__).resolve().parents[1]
PAPER_TABLE1 = REPO / "config" / "paper_table1.csv"
SCRIPT = REPO / "workflow" / "scripts" / "aggregate.py"

# --------------------------------------------------------------------------- a hand-made study

REFERENCE = "one two three four five"  # five words per utterance, four utterances: 20 words
UTTERANCES = (("u1", "Ses01F", "ang"), ("u2", "Ses01F", "hap"), ("u3", "Ses01M", "sad"))
UTTERANCES += (("u4", "Ses01M", "neu"),)
# Word errors per seed (in utterance u1) and utterances classified correctly per seed.
ASR_ERRORS = {0: 1, 1: 2, 2: 3}  # WER 0.05, 0.10, 0.15: mean 0.10, SD 0.05
JOINT_ERRORS = {0: 0, 1: 1}  # WER 0.00, 0.05: mean 0.025, SD 0.0354
SER_CORRECT = {0: 2, 1: 3, 2: 1}  # accuracy 0.50, 0.75, 0.25: mean 0.50, SD 0.25
JOINT_CORRECT = {0: 3, 1: 4}  # accuracy 0.75, 1.00: mean 0.875, SD 0.1768


def _hand_made_study(root: Path) -> list[Path]:
    """Clean training, clean test: ASR and SER baselines over seeds 0-2, joint over seeds 0-1."""
    runs = [("asr", s, ASR_ERRORS[s], None) for s in ASR_ERRORS]
    runs += [("ser", s, None, SER_CORRECT[s]) for s in SER_CORRECT]
    runs += [("joint", s, JOINT_ERRORS[s], JOINT_CORRECT[s]) for s in JOINT_ERRORS]
    paths = []
    for model, seed, errors, correct in runs:
        for fold in ("Ses01F", "Ses01M"):
            rows = []
            for i, (utt, speaker, emotion) in enumerate(UTTERANCES):
                if speaker != fold:
                    continue
                words = REFERENCE.split()
                if errors and utt == "u1":
                    words[:errors] = ["x"] * errors
                wrong = EMOTIONS[(EMOTIONS.index(emotion) + 1) % 4]
                rows.append(
                    {
                        "utt_id": utt,
                        "speaker": speaker,
                        "fold": fold,
                        "ref_transcript": REFERENCE,
                        "hyp_transcript": " ".join(words) if model != "ser" else "",
                        "ref_emotion": emotion if model != "asr" else "",
                        "pred_emotion": (emotion if i < (correct or 0) else wrong)
                        if model != "asr"
                        else "",
                    }
                )
            path = root / run_name(model, "clean", seed) / fold / "clean" / "predictions.csv"
            path.parent.mkdir(parents=True)
            pd.DataFrame(rows, columns=list(PREDICTION_COLUMNS)).to_csv(path, index=False)
            paths.append(path)
    return paths


def test_a_hand_made_study_over_seeds(tmp_path):
    paths = _hand_made_study(tmp_path / "eval")
    tables, figures = tmp_path / "tables", tmp_path / "figures"
    written = write_results(paths, PAPER_TABLE1, tables, figures, n_resamples=200, seed=0)
    assert {p.name for p in written} == set(table_files(3)) | set(FIGURE_FILES)

    metrics = pd.read_csv(tables / "metrics.csv")  # one row per seed: every figure traceable
    asr = metrics[metrics["model"] == "asr"].set_index("seed")
    assert asr["wer"].to_dict() == pytest.approx({0: 0.05, 1: 0.10, 2: 0.15})
    assert asr["ref_words"].tolist() == [20, 20, 20]
    assert metrics.loc[metrics["model"] == "joint", "seed"].tolist() == [0, 1]

    summary = pd.read_csv(tables / "metrics_over_seeds.csv").set_index("model")
    assert summary.loc["asr", ["n_seeds", "seeds"]].tolist() == [3, "0 1 2"]
    assert summary.loc["asr", ["wer", "wer_sd", "wer_min", "wer_max"]].tolist() == pytest.approx(
        [0.10, 0.05, 0.05, 0.15]
    )
    assert summary.loc["joint", ["wer", "wer_sd"]].tolist() == pytest.approx(
        [0.025, np.std([0.0, 0.05], ddof=1)]
    )
    assert summary.loc["ser", ["wa", "wa_sd", "wa_min", "wa_max"]].tolist() == pytest.approx(
        [0.5, 0.25, 0.25, 0.75]
    )
    assert summary.loc["joint", ["wa", "wa_sd"]].tolist() == pytest.approx(
        [0.875, np.std([0.75, 1.0], ddof=1)]
    )
    for model, metric in (("asr", "wer"), ("joint", "wer"), ("ser", "wa"), ("joint", "wa")):
        row = summary.loc[model]
        assert row[f"{metric}_ci_low"] <= row[metric] <= row[f"{metric}_ci_high"]

    table = pd.read_csv(tables / "table1.csv")  # the paper's layout, means over seeds
    assert list(table.columns) == list(TABLE1_COLUMNS)
    clean = table.iloc[0]
    assert clean["asr_wer_clean_baseline"] == 10.0 and clean["asr_wer_clean_joint"] == 2.5
    assert clean["asr_wer_clean_rel_imp"] == 75.0  # (10 - 2.5) / 10, from the means
    assert clean["ser_acc_clean_baseline"] == 50.0 and clean["ser_acc_clean_joint"] == 87.5
    assert clean["ser_acc_clean_imp"] == 37.5
    markdown = (tables / "table1.md").read_text()
    assert "| Clean | 10.0 ± 5.0 | 2.5 ± 3.5 | 75.0 |" in markdown
    assert "| 50.0 ± 25.0 | 87.5 ± 17.7 | 37.5 |" in markdown
    assert "mean over 2 to 3 training seeds (0, 1, 2) per cell" in markdown
    assert "hierarchical bootstrap over training seeds and test utterances" in markdown
    assert "Saravanan, Berman & Sober 2020" in markdown
    assert "Neurons, Behavior, Data Analysis and Theory 3(5)" in markdown
    latex = (tables / "table1.tex").read_text()
    assert r"10.0\,{\scriptsize$\pm$5.0}" in latex and "Saravanan" in latex

    tests = pd.read_csv(tables / "significance.csv").set_index("task")
    wer, accuracy = tests.loc["asr"], tests.loc["ser"]
    assert (wer["n_seeds_baseline"], wer["n_seeds_joint"], wer["n_utts"]) == (3, 2, 4)
    assert [wer["baseline"], wer["joint"], wer["delta"], wer["relative_delta"]] == pytest.approx(
        [0.10, 0.025, 0.075, 0.75]
    )
    # One baseline seed against one joint seed: from 0.05 - 0.05 to 0.15 - 0.00.
    assert [wer["pair_delta_min"], wer["pair_delta_max"]] == pytest.approx([0.0, 0.15])
    assert [accuracy["delta"], accuracy["pair_delta_min"], accuracy["pair_delta_max"]] == (
        pytest.approx([0.375, 0.0, 0.75])
    )
    assert (tests["test"] == HIERARCHICAL_TEST).all()
    assert "means over 2 to 3 training seeds" in (tables / "table1_vs_paper.md").read_text()


# --------------------------------------------------------------------------- one seed


def _results_as_a_single_run(paths, tables: Path, figures: Path) -> None:
    """The results step as it was before seeds: the single-run building blocks, on the
    predictions' single-run columns."""
    predictions = load_predictions(paths)[["model", "train", "condition", *PREDICTION_COLUMNS]]
    metrics = pooled_metrics(predictions)
    per_fold = per_fold_metrics(predictions)
    confusion = confusion_counts(predictions)
    tests = significance(predictions, n_resamples=60, seed=1, alpha=0.05)
    for name, frame in (
        ("metrics.csv", metrics),
        ("per_fold.csv", per_fold),
        ("significance.csv", tests),
        ("confusion.csv", confusion),
    ):
        write_csv(tables / name, frame)
    write_table1(metrics, tests, load_paper_table1(PAPER_TABLE1), tables, 0.05)
    write_figures(table1_from_metrics(metrics), per_fold, metrics, confusion, figures)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.*")}


def test_one_seed_writes_exactly_the_single_run_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")  # PDFs otherwise carry their creation time
    seed0 = write_synthetic_predictions(tmp_path / "eval0")
    _results_as_a_single_run(seed0, tmp_path / "old" / "tables", tmp_path / "old" / "figures")
    write_results(seed0, PAPER_TABLE1, tmp_path / "new" / "tables", tmp_path / "new" / "figures",
                  n_resamples=60, seed=1)  # fmt: skip
    old, new = _files(tmp_path / "old"), _files(tmp_path / "new")
    assert set(old) == {f"tables/{n}" for n in TABLE_FILES} | {f"figures/{n}" for n in FIGURE_FILES}
    assert set(new) == set(old)
    assert [name for name in old if old[name] != new[name]] == []
    # The same predictions trained with seed 3 alone: one seed, the same outputs.
    seed3 = write_synthetic_predictions(tmp_path / "eval3", training_seeds=(3,))
    assert all("-seed3/" in p.as_posix() for p in seed3)
    write_results(seed3, PAPER_TABLE1, tmp_path / "s3" / "tables", tmp_path / "s3" / "figures",
                  n_resamples=60, seed=1)  # fmt: skip
    assert _files(tmp_path / "s3") == new


# --------------------------------------------------------------------------- three seeds


@pytest.fixture(scope="module")
def three_seeds(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    return write_synthetic_predictions(root, training_seeds=(0, 1, 2))


def test_seed_significance_applies_holm_per_task_and_names_the_test(three_seeds):
    predictions = load_predictions(three_seeds)
    boots = bootstrap_conditions(predictions, n_resamples=200, seed=0)
    tests = seed_significance(boots, alpha=0.05)
    assert len(tests) == 28 and (tests["test"] == HIERARCHICAL_TEST).all()
    assert (tests[["n_seeds_baseline", "n_seeds_joint"]] == 3).all().all()
    for _, family in tests.groupby("task"):
        assert len(family) == 14
        np.testing.assert_allclose(family["p_holm"], holm(family["p_value"].to_numpy()))
    assert (tests["significant"] == (tests["p_value"] < 0.05)).all()
    # Baseline and joint are the means over seeds of each seed's pooled figure.
    per_seed = pd.concat(
        pooled_metrics(group).assign(seed=seed) for seed, group in predictions.groupby("seed")
    )
    means = per_seed.groupby(["model", "train", "condition"])[["wer", "wa"]].mean()
    for row in tests.itertuples():
        column = "wer" if row.task == "asr" else "wa"
        assert row.baseline == pytest.approx(
            means.loc[(row.baseline_model, row.train, row.condition), column]
        )
        assert row.joint == pytest.approx(means.loc[("joint", row.train, row.condition), column])
        sign = 1 if row.task == "asr" else -1
        assert row.delta == pytest.approx(sign * (row.baseline - row.joint))
        assert row.ci_low <= row.delta <= row.ci_high
    # The fixture's joint model makes 0.7 of the word errors: a WER gain in most cells.
    assert (tests.loc[tests["task"] == "asr", "delta"] > 0).sum() >= 12
    again = seed_significance(bootstrap_conditions(predictions, 200, 0), alpha=0.05)
    pd.testing.assert_frame_equal(tests, again)

    # Fig. 2's joint-vs-baseline bar is the same comparison as the clean-trained test.
    bars = fig2_intervals(boots, "asr", 0.95).set_index(["test_condition", "part", "train"])
    row = tests[(tests["task"] == "asr") & (tests["train"] == "clean")].set_index("condition")
    for condition in ("clean", "speech5"):
        assert bars.loc[(condition, "joint", "clean"), "low"] == pytest.approx(
            row.loc[condition, "relative_ci_low"] * 100
        )
    assert len(bars) == 21  # three compared models x seven conditions


def test_aggregate_script_over_three_seeds(tmp_path, three_seeds):
    tables, figures = tmp_path / "results" / "tables", tmp_path / "results" / "figures"
    names = table_files(3)
    outputs = {Path(n).stem + "_" + Path(n).suffix[1:]: tables / n for n in names}
    outputs["metrics"] = outputs.pop("metrics_csv")
    outputs |= {name.replace(".", "_"): figures / name for name in FIGURE_FILES}
    snakemake = SimpleNamespace(
        input=_NamedList(predictions=[str(p) for p in three_seeds], paper_table1=str(PAPER_TABLE1)),
        output=_NamedList(**{name: str(path) for name, path in outputs.items()}),
        params=SimpleNamespace(bootstrap_resamples=100, seed=1, alpha=0.05),
        log=[str(tmp_path / "logs" / "aggregate.log")],
    )
    runpy.run_path(str(SCRIPT), init_globals={"snakemake": snakemake})
    assert SEED_TABLE_FILES == ("metrics_over_seeds.csv",)
    for path in outputs.values():
        assert path.is_file() and path.stat().st_size > 0, path
    metrics = pd.read_csv(tables / "metrics.csv")
    assert len(metrics) == 42 * 3 and sorted(metrics["seed"].unique()) == [0, 1, 2]
    assert len(pd.read_csv(tables / "per_fold.csv")) == 420 * 3
    assert len(pd.read_csv(tables / "confusion.csv")) == 4 * 7 * 16 * 3
    summary = pd.read_csv(tables / "metrics_over_seeds.csv")
    assert len(summary) == 42 and (summary["n_seeds"] == 3).all()
    # Table 1's cells are the means over seeds of metrics.csv's pooled figures.
    means = metrics.groupby(["model", "train", "condition"])[["wer", "wa"]].mean()
    table = pd.read_csv(tables / "table1.csv").set_index("test_condition")
    assert table.loc["music5", "asr_wer_noise_baseline"] == pytest.approx(
        round(means.loc[("asr", "noisy", "music5"), "wer"] * 100, 1)
    )
    assert table.loc["clean", "ser_acc_clean_joint"] == pytest.approx(
        round(means.loc[("joint", "clean", "clean"), "wa"] * 100, 1)
    )
    assert "wrote 21 files" in (tmp_path / "logs" / "aggregate.log").read_text()


class _NamedList(list):
    def __init__(self, **named):
        super().__init__(named.values())
        self.__dict__.update(named)


def test_seeds_must_score_the_same_utterances(tmp_path):
    paths = _hand_made_study(tmp_path / "eval")
    dropped = next(p for p in paths if "ser-clean-seed2/Ses01M" in p.as_posix())
    frame = pd.read_csv(dropped, dtype=str, keep_default_na=False)
    frame.iloc[:1].to_csv(dropped, index=False)
    with pytest.raises(ValueError, match="ser-clean-seed2 on clean and .* scored different"):
        write_results(paths, PAPER_TABLE1, tmp_path / "t", tmp_path / "f", n_resamples=10)


def test_sweep_predictions_are_refused_by_table1(tmp_path):
    paths = write_synthetic_predictions(tmp_path / "eval", models=("joint",), alphas=(None, 0.3))
    with pytest.raises(ValueError, match="come from alpha-sweep runs .* alpha 0.3"):
        write_results(paths, PAPER_TABLE1, tmp_path / "t", tmp_path / "f", n_resamples=10)


def test_a_run_scored_twice_in_one_seed_is_named(tmp_path):
    paths = _hand_made_study(tmp_path / "eval")
    run = tmp_path / "eval" / "joint-clean-seed1"
    # Fold Ses01M's file also holds Ses01F's utterances: u1 is scored in two folds.
    moved = pd.read_csv(run / "Ses01F" / "clean" / "predictions.csv", dtype=str).assign(
        fold="Ses01M"
    )
    target = run / "Ses01M" / "clean" / "predictions.csv"
    pd.concat([pd.read_csv(target, dtype=str), moved]).to_csv(target, index=False)
    with pytest.raises(ValueError, match="'u1' is scored twice for joint-clean-seed1 on clean"):
        load_predictions(paths)
    # The same utterance in two seeds, or in the main run, is no duplicate.
    assert len(load_predictions([p for p in paths if "joint-clean-seed1" not in str(p)])) == 28
