"""Training hyper-parameters (config keys `train` and `pretrain`), checked on the way in.

TrainConfig.from_dict turns a config mapping into typed settings; every error names the
`key.field` at fault and what was expected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

from asrser.training.augment import AugmentConfig


class TrainingError(RuntimeError):
    """Training cannot go on (bad settings, or a run that keeps producing non-finite losses)."""


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
