"""Run folder names: seed and alpha tags, one spelling per run."""

import math

import numpy as np
import pytest

from asrser import MODEL_TYPES, TRAIN_CONDITIONS
from asrser.common.run_names import (
    RunName,
    format_alpha,
    parse_alpha,
    parse_run_name,
    run_name,
    study_run_names,
    sweep_run_names,
)


@pytest.mark.parametrize(
    ("alpha", "text"),
    [
        (0.3, "0.3"),
        (0.05, "0.05"),
        (0.1, "0.1"),
        (1.0, "1.0"),
        (1, "1.0"),
        (0, "0.0"),
        (-0.0, "0.0"),
        (1e-5, "0.00001"),  # never 1e-05: the '-' would split the run name
        (0.1 + 0.2, "0.30000000000000004"),  # the shortest decimal of *that* float
        (np.float64(0.25), "0.25"),
    ],
)
def test_format_alpha_is_the_shortest_decimal(alpha, text):
    assert format_alpha(alpha) == text
    assert parse_alpha(text) == float(alpha)


def test_alpha_spelling_round_trips_for_any_float_in_range():
    for value in np.random.default_rng(0).random(2000).tolist() + [0.0, 1.0, 5e-324]:
        assert parse_alpha(format_alpha(value)) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.30", "is spelled '0.3'"),
        ("1.00", "is spelled '1.0'"),
        ("00.3", "is spelled '0.3'"),
        ("1", "is not a decimal"),
        (".3", "is not a decimal"),
        ("3e-1", "is not a decimal"),
        ("-0.1", "is not a decimal"),
        ("1.5", r"must lie in \[0, 1\]"),
    ],
)
def test_parse_alpha_refuses_every_other_spelling(text, message):
    with pytest.raises(ValueError, match=message):
        parse_alpha(text)


@pytest.mark.parametrize("bad", [1.5, -0.1, math.nan, math.inf])
def test_format_alpha_refuses_values_outside_the_unit_interval(bad):
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\]"):
        format_alpha(bad)


def test_format_alpha_refuses_non_numbers():
    for bad in (True, "0.3", None):
        with pytest.raises(TypeError, match="alpha must be a number"):
            format_alpha(bad)


def test_run_names_of_every_model_train_seed_and_alpha_round_trip():
    names = set()
    for model in MODEL_TYPES:
        for train in TRAIN_CONDITIONS:
            for seed in (0, 1, 2, 10):
                for alpha in (None, 0.05, 0.3, 1.0) if model == "joint" else (None,):
                    name = run_name(model, train, seed, alpha)
                    assert parse_run_name(name) == RunName(model, train, seed, alpha)
                    assert str(RunName(model, train, seed, alpha)) == name
                    names.add(name)
    assert len(names) == 2 * 4 * (1 + 1 + 4)  # every run its own folder
    # Seed 0 at the configured alpha keeps the single-run folder names.
    assert run_name("asr", "clean") == "asr-clean"
    assert run_name("joint", "noisy", 2) == "joint-noisy-seed2"
    assert run_name("joint", "noisy", 0, 0.3) == "joint-noisy-alpha0.3"
    assert run_name("joint", "clean", 3, 0.05) == "joint-clean-alpha0.05-seed3"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("joint-noisy-seed0", "seed 0 has no tag"),
        ("joint-noisy-seed01", "without leading zeros"),
        ("joint-noisy-seedx", "must be a positive integer"),
        ("asr-clean-alpha0.3", "only the joint model has an alpha"),
        ("joint-noisy-seed2-alpha0.3", r"is not \{model\}-\{train\}"),
        ("joint-noisy-alpha0.30", "is spelled '0.3'"),
        ("joint-dirty", "train 'dirty' is not one of"),
        ("bert-clean", "model 'bert' is not one of"),
        ("joint", r"is not \{model\}-\{train\}"),
    ],
)
def test_parse_run_name_refuses_what_run_name_never_writes(name, message):
    with pytest.raises(ValueError, match=message):
        parse_run_name(name)


def test_run_name_validates_its_parts():
    with pytest.raises(ValueError, match="only the joint model has an alpha"):
        run_name("ser", "clean", 0, 0.1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        run_name("ser", "clean", -1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        run_name("ser", "clean", 1.0)


def test_study_and_sweep_run_names():
    assert study_run_names([0]) == [
        "asr-clean", "asr-noisy", "ser-clean", "ser-noisy", "joint-clean", "joint-noisy"
    ]  # fmt: skip
    three = study_run_names([0, 1, 2])
    assert len(three) == 18 and len(set(three)) == 18
    assert three[:6] == study_run_names([0])  # adding seeds keeps every seed-0 run
    assert "ser-noisy-seed2" in three
    sweep = sweep_run_names([0.05, 0.1, 0.3], 0.1, [0, 1])
    assert sweep == [
        "joint-clean-alpha0.05", "joint-noisy-alpha0.05",
        "joint-clean-alpha0.05-seed1", "joint-noisy-alpha0.05-seed1",
        "joint-clean", "joint-noisy", "joint-clean-seed1", "joint-noisy-seed1",
        "joint-clean-alpha0.3", "joint-noisy-alpha0.3",
        "joint-clean-alpha0.3-seed1", "joint-noisy-alpha0.3-seed1",
    ]  # fmt: skip
    assert set(sweep) & set(study_run_names([0, 1])) == {
        "joint-clean", "joint-noisy", "joint-clean-seed1", "joint-noisy-seed1"
    }  # fmt: skip
    # The configured alpha's point is always there, and the order is by alpha.
    assert sweep_run_names([0.3, 0.05], 0.1, [0, 1]) == sweep
    with pytest.raises(ValueError, match=r"seeds \[1\] listed more than once"):
        study_run_names([0, 1, 1])
    with pytest.raises(ValueError, match=r"alphas \[0.3\] listed more than once"):
        sweep_run_names([0.3, 0.3], 0.1, [0])
    with pytest.raises(ValueError, match="no seeds given"):
        sweep_run_names([0.3], 0.1, [])
