"""Training hyper-parameters (config keys `train` and `pretrain`), parsed once and checked.

The one place where config values become typed settings: `train_settings` turns config key
`train` (or a run's params.hparams, which the workflow derives from it) into the TrainConfig of
one model type, PretrainConfig.from_dict config key `pretrain` into the pretraining's. A job
parses its settings where it starts; train(), pretrain() and everything below them take these
objects and never read the raw mapping again. Every error names the `key.field` at fault and
what was expected. No torch here: the workflow imports it to plan runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

from asrser.common.config import model_hparams


class TrainingError(RuntimeError):
    """Training cannot go on (bad settings, or a run that keeps producing non-finite losses)."""


@dataclass(frozen=True)
class AugmentConfig:
    enabled: bool = True
    speeds: tuple[int, ...] = (95, 100, 105)  # percent of the original speed
    speed_prob: float = 1.0
    drop_freq_prob: float = 1.0
    drop_freq_count: tuple[int, int] = (0, 3)  # inclusive range of bands per utterance
    drop_freq_range: tuple[float, float] = (0.0, 1.0)  # band centres, fraction of Nyquist
    drop_freq_width: float = 0.05  # band width, fraction of Nyquist (400 Hz at 16 kHz)
    drop_chunk_prob: float = 1.0
    drop_chunk_count: tuple[int, int] = (0, 5)  # inclusive range of chunks per utterance
    drop_chunk_length: tuple[int, int] = (1000, 2000)  # samples, inclusive range

    @classmethod
    def from_dict(cls, values: Mapping | None, key: str = "augment") -> AugmentConfig:
        """Build from a config mapping; a ValueError names `key.field` on unknown/bad values."""
        values = dict(values or {})
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"config key '{key}': unknown keys {unknown}; expected some of {sorted(known)}"
            )
        converted = {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in values.items()
        }
        config = cls(**converted)
        config.check(key)
        return config

    def check(self, key: str = "augment") -> None:
        problems = []
        if not self.speeds or any(not 50 <= int(s) <= 200 for s in self.speeds):
            problems.append(f"speeds: expected percentages in 50..200, got {self.speeds}")
        for name in ("speed_prob", "drop_freq_prob", "drop_chunk_prob", "drop_freq_width"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"{name}: expected a value in [0, 1], got {getattr(self, name)}")
        for name in ("drop_freq_count", "drop_chunk_count", "drop_chunk_length"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                problems.append(f"{name}: expected [low, high] with 0 <= low <= high")
        low, high = self.drop_freq_range
        if not 0.0 <= low <= high <= 1.0:
            problems.append("drop_freq_range: expected [low, high] within [0, 1]")
        if problems:
            raise ValueError(f"config key '{key}': " + "; ".join(problems))

    @property
    def max_length_factor(self) -> float:
        """Longest output / input length (the slowest speed): batch caps account for it."""
        return 100.0 / min(self.speeds) if self.enabled else 1.0


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters (config key `train`; `pretrain` for the demo encoder's pretraining)."""

    seed: int = 0
    epochs: int = 3
    max_batch_seconds: float = 32.0  # padded audio seconds per training batch
    valid_max_batch_seconds: float = 64.0
    lr_encoder: float = 1e-4
    lr_heads: float = 1e-3
    weight_decay: float = 0.01  # on weight matrices; biases and norms are not decayed
    warmup_fraction: float = 0.1
    final_lr_fraction: float = 0.05  # the linear decay ends at this fraction of the peak
    max_grad_norm: float = 5.0
    alpha: float = 0.1  # joint loss alpha * CE + (1 - alpha) * CTC
    head_dropout: float = 0.1
    # Emotion heads fitted on the start encoder's embeddings before fine-tuning (0: off);
    # asrser.training.head_warmup says why.
    head_warmup_steps: int = 0
    head_warmup_lr: float = 1e-3
    encoder_overrides: Mapping = field(default_factory=dict)  # e.g. {mask_time_prob: 0.05}
    # asr and joint: "reuse" the encoder's pretrained CTC head or train a "new" one (at lr_heads).
    ctc_head: str = "reuse"
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    cache_audio: bool = True  # keep the split's audio in memory (off for a large corpus)
    # Processes that collate unaugmented batches ahead of the step (BatchPrefetcher); 0: none.
    collate_workers: int = 0
    max_nonfinite_fraction: float = 0.2
    max_nonfinite_in_row: int = 10
    # Stop after this many batches (a skipped non-finite one counts: the schedule and the data
    # order stay those of a run without it).
    max_steps: int | None = None
    max_minutes: float | None = None  # stop after this much wall time (pretraining's budget)

    @classmethod
    def from_dict(cls, values: Mapping | None, key: str = "train") -> TrainConfig:
        """From a config mapping; errors name `key.field` and what was expected."""
        values = dict(values or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise TrainingError(
                f"config key '{key}': unknown keys {unknown}; expected some of {sorted(known)}"
            )
        converted = {}
        for name, value in values.items():
            if name == "augment":
                converted[name] = AugmentConfig.from_dict(value, key=f"{key}.augment")
            elif name == "encoder_overrides":
                if not isinstance(value, Mapping):
                    raise TrainingError(f"config key '{key}.{name}': expected a mapping")
                converted[name] = dict(value)
            else:
                converted[name] = _coerce(value, known[name].default, f"{key}.{name}")
        config = cls(**converted)
        config.check(key)
        return config

    def check(self, key: str = "train") -> None:
        positive = (
            "epochs",
            "max_batch_seconds",
            "valid_max_batch_seconds",
            "max_nonfinite_in_row",
        )
        problems = [f"{name}: expected > 0" for name in positive if not getattr(self, name) > 0]
        for name in ("lr_encoder", "lr_heads", "weight_decay", "max_grad_norm", "head_warmup_lr"):
            if getattr(self, name) < 0:
                problems.append(f"{name}: expected >= 0")
        for name in ("warmup_fraction", "final_lr_fraction", "alpha", "max_nonfinite_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"{name}: expected a value in [0, 1]")
        if not 0.0 <= self.head_dropout < 1.0:
            problems.append("head_dropout: expected a value in [0, 1)")
        for name in ("head_warmup_steps", "collate_workers"):
            if getattr(self, name) < 0:
                problems.append(f"{name}: expected >= 0")
        for name in ("max_steps", "max_minutes"):
            if getattr(self, name) is not None and not getattr(self, name) > 0:
                problems.append(f"{name}: expected > 0 or null")
        if self.ctc_head not in ("reuse", "new"):
            problems.append(f"ctc_head: expected reuse or new, got {self.ctc_head!r}")
        if problems:
            raise TrainingError(f"config key '{key}': " + "; ".join(problems))

    def to_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self), default=list))


def _coerce(value, default, key: str):
    """Config values are YAML scalars: accept ints for floats, reject strings and the like."""
    expected = type(default) if default is not None else (int, float)
    if value is None and default is None:
        return None
    if isinstance(value, bool) != (expected is bool):
        raise TrainingError(f"config key '{key}': expected {_type_name(default)}, got {value!r}")
    if expected is float and isinstance(value, int | float):
        return float(value)
    if expected is int and isinstance(value, int):
        return value
    if expected == (int, float) and isinstance(value, int | float):
        return value
    if expected is bool and isinstance(value, bool):
        return value
    if expected is str and isinstance(value, str):
        return value
    raise TrainingError(f"config key '{key}': expected {_type_name(default)}, got {value!r}")


def _type_name(default) -> str:
    return "a number or null" if default is None else type(default).__name__


def train_settings(train: Mapping | None, model: str, key: str = "train") -> TrainConfig:
    """The TrainConfig of one model type from config key `train` (shared keys, overridden by
    `models.<model>`) or from a run's params.hparams, which the workflow derives from it
    (asrser.common.run_plan.run_hparams): both take this one route. Every key is checked, also
    those this model type never reads (a bad alpha is an error for the ASR baseline too, not a
    value it silently leaves out); those are then left at their defaults."""
    TrainConfig.from_dict(model_hparams(train, model, key, keep_unused=True), key)
    return TrainConfig.from_dict(model_hparams(train, model, key), key)


# Defaults of the config key `pretrain` that differ from `train`'s, chosen by held-out WER per
# unit of compute on this 2-core machine: a fresh model takes a higher learning rate (3e-3 was
# worse); 16-second batches learn faster per audio second than 32-second ones; without time
# masking the CTC plateau ends sooner. A step budget rather than a time budget, so that a busy
# machine gets the same encoder, only later.
PRETRAIN_DEFAULTS = {
    "max_minutes": None,
    "max_steps": 4200,
    "epochs": 1000,
    "max_batch_seconds": 16.0,
    "lr_encoder": 2e-3,
    "warmup_fraction": 0.06,
    "final_lr_fraction": 0.02,
    "augment": {"enabled": False},
    # The first epoch's log-mel features (~50 s of the demo's 5.5 min on one core) are computed
    # in a second process: the step's second torch thread gained only ~5 %.
    "collate_workers": 1,
    # Masking off by the switch, not by mask_time_prob 0: the encoder then keeps its mask
    # embedding (untrained here, fine-tuning trains it), so that the saved weights are complete.
    "encoder_overrides": {"apply_spec_augment": False},
}


POSITION_EMBEDDINGS = ("rotary", "relative_key", "relative")


@dataclass(frozen=True)
class EncoderShape:
    """Architecture of the fresh demo encoder (config key pretrain.encoder)."""

    hidden_size: int = 144
    num_layers: int = 3
    num_heads: int = 4
    # Feed-forward width: 288 learns as well per step as 576 and steps ~20 % faster.
    intermediate_size: int = 288
    conv_kernel_size: int = 15
    frame_stack: int = 3  # 10-ms log-mel frames stacked per encoder frame
    position_embeddings_type: str = "rotary"  # or relative_key, relative (transformers' names)
    mask_time_prob: float = 0.05  # time masking of the saved encoder (in fine-tuning)

    @classmethod
    def from_dict(cls, values: Mapping | None, key: str) -> EncoderShape:
        values = dict(values or {})
        known = {f.name: f.default for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise TrainingError(
                f"config key '{key}': unknown keys {unknown}; expected {sorted(known)}"
            )
        for name, value in values.items():
            if name == "position_embeddings_type":
                if value not in POSITION_EMBEDDINGS:
                    raise TrainingError(
                        f"config key '{key}.{name}': expected one of {list(POSITION_EMBEDDINGS)}, "
                        f"got {value!r}"
                    )
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise TrainingError(f"config key '{key}.{name}': expected a non-negative number")
            if isinstance(known[name], int) and not isinstance(value, int):
                raise TrainingError(f"config key '{key}.{name}': expected an integer")
        return cls(**values)


@dataclass(frozen=True)
class PretrainConfig:
    train: TrainConfig
    encoder: EncoderShape
    valid_speaker_fraction: float = 0.1

    @classmethod
    def from_dict(cls, values: Mapping | None, key: str = "pretrain") -> PretrainConfig:
        values = dict(values or {})
        fraction = values.pop("valid_speaker_fraction", 0.1)
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, int | float)
            or not 0 < fraction < 1
        ):
            raise TrainingError(
                f"config key '{key}.valid_speaker_fraction': expected a number in (0, 1), got {fraction!r}"
            )
        encoder = EncoderShape.from_dict(values.pop("encoder", None), f"{key}.encoder")
        # Mappings merged key by key: pretrain.encoder_overrides {layerdrop: 0.1} must not turn
        # the default's apply_spec_augment: false back on, nor augment {speed_prob: 0.5} enable it.
        merged = {
            name: {**PRETRAIN_DEFAULTS[name], **value}
            if isinstance(value, Mapping) and isinstance(PRETRAIN_DEFAULTS.get(name), Mapping)
            else value
            for name, value in values.items()
        }
        train = TrainConfig.from_dict({**PRETRAIN_DEFAULTS, **merged}, key=key)
        return cls(train=train, encoder=encoder, valid_speaker_fraction=float(fraction))

    def to_dict(self) -> dict:
        return {
            **self.train.to_dict(),
            "encoder": asdict(self.encoder),
            "valid_speaker_fraction": self.valid_speaker_fraction,
        }
