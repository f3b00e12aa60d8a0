"""Names of training runs: the folder a model and its evaluations live in.

    {model}-{train}                    seed 0 at the configured alpha (the main run)
    {model}-{train}-seed{s}            seed s > 0
    joint-{train}-alpha{a}             the joint model at a swept alpha other than the configured one
    joint-{train}-alpha{a}-seed{s}     both

so results/models/{run}/{fold}/ and results/eval/{run}/{fold}/{condition}/ hold one training and
its evaluations. Seed 0 carries no tag, so adding seeds never moves the models trained before;
the sweep's point at the configured alpha is the main run itself, so it carries no alpha tag.

Each name is unique: `{a}` is the shortest decimal that reads back as the same float (0.3, 0.05,
1.0; never 0.30, 3e-01 or 1), and `{s}` has no leading zeros, so one run never has two folders.
`parse_run_name` refuses any other spelling rather than read it as a second copy of a run.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from asrser import MODEL_TYPES, TRAIN_CONDITIONS

_ALPHA_TEXT = re.compile(r"[0-9]+\.[0-9]+")
_RUN_NAME = re.compile(
    r"(?P<model>[a-z]+)-(?P<train>[a-z]+)(?:-alpha(?P<alpha>[^-/]+))?(?:-seed(?P<seed>[^-/]+))?"
)
_SEED_TEXT = re.compile(r"[1-9][0-9]*")


def format_alpha(alpha: float) -> str:
    """The run-name spelling of a loss weight: the shortest decimal that reads back as `alpha`.

    Positional, never in exponent form (1e-05 becomes 0.00001: a '-' would split the run name),
    and always with a decimal point (1 becomes 1.0).
    """
    value = _checked_alpha(alpha)
    return format(Decimal(repr(value)), "f")


def parse_alpha(text: str) -> float:
    """The loss weight a run name's alpha tag stands for; refuses any but `format_alpha`'s spelling."""
    if not _ALPHA_TEXT.fullmatch(text):
        raise ValueError(f"alpha tag {text!r} is not a decimal such as 0.3, 0.05 or 1.0")
    value = _checked_alpha(float(text))
    if format_alpha(value) != text:
        raise ValueError(
            f"alpha tag {text!r} is spelled {format_alpha(value)!r} in run names "
            "(the shortest decimal of the value), so that one alpha has one folder"
        )
    return value


def _checked_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"alpha must be a number, got {alpha!r}")
    value = float(alpha) + 0.0  # -0.0 becomes 0.0
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
    return value


def _checked_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return seed


@dataclass(frozen=True)
class RunName:
    """One training run: model type, training condition, seed, and the alpha of a sweep run
    (None for the main run, whose alpha is the configured one)."""

    model: str
    train: str
    seed: int = 0
    alpha: float | None = None

    def __post_init__(self):
        if self.model not in MODEL_TYPES:
            raise ValueError(f"model {self.model!r} is not one of {MODEL_TYPES}")
        if self.train not in TRAIN_CONDITIONS:
            raise ValueError(f"train {self.train!r} is not one of {TRAIN_CONDITIONS}")
        _checked_seed(self.seed)
        if self.alpha is not None:
            if self.model != "joint":
                raise ValueError(f"only the joint model has an alpha; {self.model!r} has none")
            object.__setattr__(self, "alpha", _checked_alpha(self.alpha))

    def __str__(self) -> str:
        return run_name(self.model, self.train, self.seed, self.alpha)


def run_name(model: str, train: str, seed: int = 0, alpha: float | None = None) -> str:
    """The folder name of one run, e.g. ('joint', 'noisy', 2, 0.3) -> joint-noisy-alpha0.3-seed2."""
    RunName(model, train, seed, alpha)  # validates
    name = f"{model}-{train}"
    if alpha is not None:
        name += f"-alpha{format_alpha(alpha)}"
    if seed:
        name += f"-seed{seed}"
    return name


def parse_run_name(name: str) -> RunName:
    """Read a run folder's name back; the inverse of `run_name` (and refuses all else)."""
    match = _RUN_NAME.fullmatch(name)
    if match is None:
        raise ValueError(
            f"run name {name!r} is not {{model}}-{{train}}[-alpha{{a}}][-seed{{s}}], "
            "e.g. joint-noisy or joint-noisy-alpha0.3-seed2"
        )
    seed_text, alpha_text = match["seed"], match["alpha"]
    if seed_text is not None and not _SEED_TEXT.fullmatch(seed_text):
        raise ValueError(
            f"run name {name!r}: seed tag {seed_text!r} must be a positive integer without "
            "leading zeros (seed 0 has no tag)"
        )
    alpha = parse_alpha(alpha_text) if alpha_text is not None else None
    return RunName(match["model"], match["train"], int(seed_text or 0), alpha)


def _distinct(values: Iterable, what: str) -> list:
    values = list(values)
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{what} {repeated} listed more than once")
    if not values:
        raise ValueError(f"no {what} given")
    return values


def study_run_names(
    seeds: Iterable[int],
    models: Iterable[str] = MODEL_TYPES,
    trains: Iterable[str] = TRAIN_CONDITIONS,
) -> list[str]:
    """The main study's runs: every model type, training condition and seed (seed 0 untagged)."""
    seeds = _distinct(seeds, "seeds")
    return [run_name(m, t, s) for s in seeds for m in models for t in trains]


def sweep_run_names(
    alphas: Iterable[float],
    configured_alpha: float,
    seeds: Iterable[int],
    trains: Iterable[str] = TRAIN_CONDITIONS,
) -> list[str]:
    """The joint runs of the alpha sweep, in increasing alpha, each for every seed and training
    condition. The sweep always holds the configured alpha, whose runs are the main study's joint
    runs (no alpha tag): nothing retrains for it."""
    configured = _checked_alpha(configured_alpha)
    alphas = _distinct([_checked_alpha(a) for a in alphas], "alphas")
    alphas = sorted({*alphas, configured})
    seeds = _distinct(seeds, "seeds")
    return [
        run_name("joint", t, s, None if a == configured else a)
        for a in alphas
        for s in seeds
        for t in trains
    ]
