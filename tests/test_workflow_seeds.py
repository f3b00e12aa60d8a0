"""train.seeds and the alpha sweep in the plan: job counts of dry runs in every packing and under
Slurm, seed 0's jobs unchanged by more seeds, the sweep reusing the main run's joint models."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
import yaml
from workflow_helpers import REPO, TEST_CONFIG, planned_jobs, snakemake

from asrser.common.config import ConfigError, model_hparams, validate_config
from asrser.common.run_plan import check_seeds, configured_alpha, run_hparams, swept_alphas

FOLDS = 10
SEEDS = ("--config", "train={seeds: [0, 1]}")
SLURM = ("--profile", str(REPO / "profiles" / "slurm"))
TEST = ("--configfile", str(TEST_CONFIG))
_RULE = re.compile(r"^(?:local)?rule (\w+):$")


def planned_outputs(workdir, *args, targets=()) -> dict[str, set[tuple[str, ...]]]:
    """Per rule, each planned job's output files (a dry run's job listing)."""
    result = snakemake(workdir, "-n", *args, targets=targets)
    jobs, rule = defaultdict(set), None
    for line in (result.stdout + result.stderr).splitlines():
        match = _RULE.match(line.strip())
        if match:
            rule = match.group(1)
        elif rule and line.strip().startswith("output:"):
            jobs[rule].add(tuple(line.split(":", 1)[1].strip().split(", ")))
            rule = None
    return jobs


def test_seed_0_runs_keep_the_main_runs_settings_and_others_add_their_seed():
    hparams = {"epochs": 2, "alpha": 0.1}
    assert run_hparams(hparams, 0, None) == hparams
    assert run_hparams(hparams, 2, None) == {"epochs": 2, "alpha": 0.1, "seed": 2}
    # train.seed stays the main run's seed; seed s trains with train.seed + s.
    assert run_hparams({"seed": 7}, 0, None) == {"seed": 7}
    assert run_hparams({"seed": 7}, 2, None) == {"seed": 9}
    assert run_hparams(hparams, 1, 0.5) == {"epochs": 2, "alpha": 0.5, "seed": 1}


def test_train_seeds_is_no_training_setting_of_any_model():
    shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config = validate_config(shipped)
    assert config["train"]["seeds"] == [0]
    assert config["alpha_sweep"]["alphas"] == [0.0, 0.05, 0.1, 0.2, 0.5, 0.9]
    more = validate_config({**shipped, "train": {**shipped["train"], "seeds": [0, 1, 2]}})
    assert more["train"]["seeds"] == [0, 1, 2]
    for model in ("asr", "ser", "joint"):
        settings = model_hparams(more["train"], model)
        assert "seeds" not in settings
        assert settings == model_hparams(config["train"], model)


def test_train_seeds_must_hold_the_main_run():
    check_seeds({"train": {"seeds": [0, 3]}})
    with pytest.raises(ConfigError, match=r"train\.seeds.*leaves out seed 0"):
        check_seeds({"train": {"seeds": [1, 2]}})


def test_the_sweep_trains_every_alpha_but_the_configured_one():
    assert swept_alphas([0.9, 0.1, 0.0], 0.1) == [0.0, 0.9]
    assert swept_alphas([0.5], 0.1) == [0.5]
    assert configured_alpha({"alpha": 0.2, "models": {"joint": {"alpha": 0.3}}}) == 0.3
    assert configured_alpha({"alpha": 0.2}) == 0.2
    assert configured_alpha({}) == 0.1  # TrainConfig's default, the paper's


def test_bad_seeds_fail_the_plan_naming_the_key(tmp_path):
    for seeds, expected in (("[1, 2]", "leaves out seed 0"), ("[0, 0]", "non-unique")):
        result = snakemake(
            tmp_path, "-n", *TEST, "--config", f"train={{seeds: {seeds}}}", check=False
        )
        message = result.stdout + result.stderr
        assert result.returncode != 0 and "train.seeds" in message and expected in message


@pytest.mark.parametrize(
    ("packing", "rule", "per_seed"),
    [
        ("per_fold", "evaluate_fold", FOLDS),
        ("per_model", "evaluate_model", 60),
        ("per_evaluation", "evaluate_condition", 420),
    ],
)
def test_every_packing_plans_its_jobs_once_per_seed(tmp_path, packing, rule, per_seed):
    for seeds in ([0], [0, 1, 2]):
        config = f"train={{seeds: {seeds}}}", f"evaluation={{jobs: {packing}}}"
        jobs = planned_jobs(tmp_path, *TEST, "--config", *config)
        assert jobs["train_model"] == 60 * len(seeds)
        assert jobs[rule] == per_seed * len(seeds)
        assert jobs["aggregate"] == 1 and jobs["text_oracle"] == 1


def test_slurm_plans_one_job_per_evaluation_and_seed(tmp_path):
    jobs = planned_jobs(tmp_path, *SLURM, *TEST, *SEEDS)
    assert jobs["train_model"] == 120 and jobs["evaluate_condition"] == 840


def test_a_fold_target_builds_its_fold_for_every_seed(tmp_path):
    jobs = planned_jobs(tmp_path, *TEST, *SEEDS, targets=("fold_Ses03M",))
    assert jobs["train_model"] == 12 and jobs["evaluate_fold"] == 2


def test_more_seeds_leave_seed_0s_jobs_as_they_are(tmp_path):
    one = planned_outputs(tmp_path, *TEST)
    three = planned_outputs(tmp_path, *TEST, "--config", "train={seeds: [0, 1, 2]}")
    for rule in ("train_model", "evaluate_fold"):
        assert one[rule] < three[rule]
        added = three[rule] - one[rule]
        assert all(re.search(r"-seed[12]/", path) for job in added for path in job)
    assert (
        "results/models/asr-clean/Ses01F/model",
        "results/models/asr-clean/Ses01F/history.csv",
        "results/models/asr-clean/Ses01F/curves.png",
    ) in one["train_model"]
    # The aggregate step takes every seed's predictions and adds the table over seeds.
    (aggregate_one,) = one["aggregate"]
    (aggregate_three,) = three["aggregate"]
    assert "results/tables/metrics_over_seeds.csv" not in aggregate_one
    assert set(aggregate_three) - set(aggregate_one) == {"results/tables/metrics_over_seeds.csv"}


@pytest.mark.parametrize(("alphas", "new_alphas"), [("[0.1, 0.5]", 1), ("[0.5, 0.9]", 2)])
def test_the_alpha_sweep_reuses_the_main_runs_joint_models(tmp_path, alphas, new_alphas):
    config = ("--config", f"alpha_sweep={{alphas: {alphas}}}")
    jobs = planned_jobs(tmp_path, *TEST, *config, targets=("alpha_sweep",))
    # The main run's 60 (the configured alpha's joint models, the baselines' reference lines)
    # and (alphas less the configured one) x 2 training conditions x folds.
    assert jobs["train_model"] == 60 + new_alphas * 2 * FOLDS
    assert jobs["evaluate_fold"] == FOLDS and jobs["evaluate_fold_sweep"] == new_alphas * FOLDS
    assert jobs["alpha_sweep"] == 1 and "aggregate" not in jobs
    planned = planned_outputs(tmp_path, *TEST, *config, targets=("alpha_sweep",))
    trained = {path for job in planned["train_model"] for path in job}
    assert "results/models/joint-clean/Ses01F/model" in trained
    assert not any("alpha0.1" in path for path in trained)
    assert "results/models/joint-noisy-alpha0.5/Ses01F/model" in trained


def test_the_alpha_sweep_covers_every_seed(tmp_path):
    config = ("--config", "alpha_sweep={alphas: [0.1, 0.5]}", "train={seeds: [0, 1]}")
    jobs = planned_jobs(tmp_path, *TEST, *config, targets=("alpha_sweep",))
    assert jobs["train_model"] == 2 * (60 + 2 * FOLDS)
    assert jobs["evaluate_fold_sweep"] == 2 * FOLDS


def test_the_alpha_sweep_is_not_part_of_the_default_target(tmp_path):
    jobs = planned_jobs(tmp_path, *TEST)
    assert "alpha_sweep" not in jobs and "evaluate_fold_sweep" not in jobs
    assert jobs["train_model"] == 60


def test_a_runs_params_parse_to_the_settings_its_config_gives():
    """One route: the settings train_model.py parses from the rule's params.hparams (what
    rules/common.smk's train_hparams returns: run_hparams over model_hparams) equal those parsed
    from the config itself, but for the run's seed and alpha."""
    from asrser.training.settings import train_settings

    shipped = validate_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    for model in ("asr", "ser", "joint"):
        from_config = train_settings(shipped["train"], model)
        params = run_hparams(model_hparams(shipped["train"], model), 0, None)
        assert train_settings(params, model) == from_config
        seeded = train_settings(run_hparams(model_hparams(shipped["train"], model), 2, None), model)
        assert seeded.seed == from_config.seed + 2
        assert seeded.to_dict() == {**from_config.to_dict(), "seed": from_config.seed + 2}
    params = run_hparams(model_hparams(shipped["train"], "joint"), 0, 0.5)
    assert train_settings(params, "joint").alpha == 0.5
