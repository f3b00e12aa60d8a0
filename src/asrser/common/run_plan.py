"""Which training runs a configuration asks for, besides the 60 of one seed.

config key train.seeds    the training seeds of the main study, default [0]. Each model type,
                          training condition, fold and seed is its own training with its own
                          evaluations. Seed 0's runs are the main run, named and configured as
                          they were before seeds existed: adding seeds never moves or reruns them.
                          The run of seed s > 0 trains with seed train.seed + s; train.seed
                          (default 0) keeps its meaning, the seed of the main run, so a config
                          that set it keeps its models, and with the default the run tagged
                          seed s trains with seed s.
config key alpha_sweep    alphas: the joint model's loss weights of the `alpha_sweep` target,
                          trained for every fold, training condition and seed of train.seeds.
                          The configured alpha is always a point of the sweep: the main run's
                          joint models, never trained twice.

Run names and their folders: asrser.common.run_names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from asrser.common.config import ConfigError, model_hparams


def check_seeds(config: Mapping) -> None:
    """train.seeds must hold seed 0: the main run, whose models the text oracle, the alpha sweep
    and a study of one seed share (the schema checks the rest: distinct non-negative ints)."""
    seeds = list(config["train"]["seeds"])
    if 0 not in seeds:
        raise ConfigError(
            f"config key 'train.seeds': {seeds} leaves out seed 0, the main run (its models "
            "are results/models/{model}-{train}/); list it first, e.g. [0, 1, 2]"
        )


def configured_alpha(train: Mapping) -> float:
    """The joint model's loss weight in the main run: train.models.joint.alpha, else
    train.alpha, else asrser.training.settings.TrainConfig's default (imported only then: torch)."""
    hparams = model_hparams(train, "joint")
    if "alpha" in hparams:
        return float(hparams["alpha"])
    from asrser.training.settings import TrainConfig

    return float(TrainConfig().alpha)


def base_seed(hparams: Mapping) -> int:
    """The seed of the main run of a model type (its train settings), TrainConfig's default
    when they leave it out."""
    if "seed" in hparams:
        return int(hparams["seed"])
    from asrser.training.settings import TrainConfig

    return int(TrainConfig().seed)


def run_hparams(hparams: Mapping, seed: int, alpha: float | None) -> dict:
    """A run's settings from its model type's main-run settings: unchanged for seed 0 at the
    configured alpha (the same dict, so Snakemake sees the same params), else with the seed
    train.seed + seed and the swept alpha."""
    hparams = dict(hparams)
    if seed:
        hparams["seed"] = base_seed(hparams) + int(seed)
    if alpha is not None:
        hparams["alpha"] = float(alpha)
    return hparams


def swept_alphas(alphas: Iterable[float], configured: float) -> list[float]:
    """The sweep's alphas that need joint models of their own, increasing: all but the
    configured one (the main run's)."""
    return sorted({float(alpha) for alpha in alphas} - {float(configured)})
