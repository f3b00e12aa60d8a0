"""Pretraining of the embedded default's encoder: a small wav2vec2-family CTC model trained as an
ASR model on the separate synthetic pretraining corpus, within a time budget.

The paper fine-tunes wav2vec2-large-960h-lv60-self, which is already a LibriSpeech ASR model; the
embedded default does the same at small scale. A fresh demo encoder (Wav2Vec2BertForCTC,
asrser.models.demo_encoder) is trained with the fine-tuning trainer (asrser.training.train.fit, the loop of asrser.training.trainer: CTC,
duration batches, augmentation, resumable checkpoints) on the corpus' training speakers for
`max_minutes` of wall time; the learning rate warms up and decays over that budget. Speakers held
out of training (`valid_speaker_fraction`) give the validation WER that picks the kept epoch and is
reported. The encoder is saved with save_pretrained (CTC model + processor), so the 60 trainings
load it with AutoModelForCTC / AutoProcessor like a hub checkpoint; pretrain_history.csv,
pretrain_curves.png and pretrain_metrics.json go into the same folder.
"""

from __future__ import annotations

import logging
import math
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from asrser.common.io import atomic_dir, write_csv, write_json
from asrser.data.batching import AudioStore, load_utterances, read_manifest
from asrser.data.collation import Split
from asrser.runtime.device import resolve_device, set_cpu_threads
from asrser.training.curves import plot_curves
from asrser.training.settings import TrainConfig, TrainingError
from asrser.training.train import fit

log = logging.getLogger(__name__)

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


def held_out_speakers(speakers, fraction: float, seed: int) -> list[str]:
    """A seeded `fraction` of the speakers (at least one, never all)."""
    unique = sorted(set(speakers))
    if len(unique) < 2:
        raise TrainingError(
            f"the pretraining corpus has {len(unique)} speaker(s); at least 2 are needed to hold "
            "some out for validation"
        )
    count = min(max(1, round(fraction * len(unique))), len(unique) - 1)
    rng = np.random.default_rng([seed, 0x5EA])
    return sorted(rng.choice(unique, size=count, replace=False).tolist())


@dataclass
class PretrainResult:
    encoder_dir: Path
    held_out_wer: float
    history: pd.DataFrame


def pretrain(
    corpus_dir: str | Path,
    out_dir: str | Path,
    hparams: PretrainConfig | Mapping | None = None,
    threads: int = 2,
    device: str = "auto",
    checkpoint_dir: str | Path | None = None,
) -> PretrainResult:
    """Pretrain the demo encoder on `corpus_dir/manifest.csv`; save it to `out_dir`.

    checkpoint_dir (default: a hidden sibling of out_dir) holds the fresh initial encoder, the
    speaker split and the resumable checkpoints; it is removed once out_dir is complete."""
    from asrser.models.demo_encoder import create_demo_encoder
    from asrser.models.processing import check_vocabulary
    from asrser.models.speech_model import build_model

    config = hparams if isinstance(hparams, PretrainConfig) else PretrainConfig.from_dict(hparams)
    out_dir = Path(out_dir)
    if checkpoint_dir is None:
        checkpoint_dir = out_dir.parent / f".{out_dir.name}.checkpoints"
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    set_cpu_threads(threads)
    torch_device = resolve_device(device)

    manifest_path = Path(corpus_dir) / "manifest.csv"
    manifest = read_manifest(manifest_path, "asr")
    if "speaker" not in manifest:
        raise TrainingError(f"'{manifest_path}' lacks the column 'speaker' (held-out speakers)")
    held_out = held_out_speakers(
        manifest["speaker"], config.valid_speaker_fraction, config.train.seed
    )
    is_valid = manifest["speaker"].isin(held_out)
    # Split manifests with paths resolved, so that the splits (and checkpoints) do not depend on
    # the working directory's relation to the corpus folder.
    splits = {}
    for name, rows in (("train", manifest[~is_valid]), ("valid", manifest[is_valid])):
        path = checkpoint_dir / f"{name}.csv"
        rows = rows.assign(
            audio_path=[_absolute(p, manifest_path.parent) for p in rows["audio_path"]]
        )
        write_csv(path, rows)
        utterances, _ = load_utterances(path, "asr")
        splits[name] = Split(
            f"pretraining {name} ({manifest_path})",
            utterances,
            AudioStore(config.train.cache_audio),
        )

    # Named by its settings, so that a rerun with other settings does not start from it.
    shape_key = json_fingerprint({"encoder": asdict(config.encoder), "seed": config.train.seed}, {})
    initial = checkpoint_dir / f"initial_encoder_{shape_key[:12]}"
    if not (initial / "config.json").is_file():
        shape = config.encoder
        create_demo_encoder(
            initial,
            hidden_size=shape.hidden_size,
            num_layers=shape.num_layers,
            num_heads=shape.num_heads,
            intermediate_size=shape.intermediate_size,
            conv_kernel_size=shape.conv_kernel_size,
            frame_stack=shape.frame_stack,
            position_embeddings_type=shape.position_embeddings_type,
            mask_time_prob=shape.mask_time_prob,
            seed=config.train.seed,
        )
    torch.manual_seed(config.train.seed)
    model, processor = build_model(
        "asr", str(initial), encoder_overrides=dict(config.train.encoder_overrides)
    )
    for split in splits.values():
        check_vocabulary(
            processor,
            [u.transcript for u in split.utterances],
            [u.utt_id for u in split.utterances],
            source=str(manifest_path),
        )
    log.info(
        "pretraining the demo encoder (%s) on %s for %.1f min with %d threads on %s: %d training "
        "utterances (%.2f h), %d held-out utterances of speakers %s",
        config.encoder,
        manifest_path,
        config.train.max_minutes or math.inf,
        threads,
        torch_device,
        len(splits["train"].utterances),
        splits["train"].seconds / 3600,
        len(splits["valid"].utterances),
        ", ".join(held_out),
    )
    fingerprint = json_fingerprint(config.to_dict(), splits)
    result = fit(
        model,
        processor,
        splits["train"],
        splits["valid"],
        config.train,
        checkpoint_dir / "fit",
        torch_device,
        fingerprint,
    )
    wer = -result.best_score
    metrics = {
        "held_out_wer": wer,
        "held_out_speakers": held_out,
        "held_out_utterances": len(splits["valid"].utterances),
        "train_utterances": len(splits["train"].utterances),
        "train_hours": splits["train"].seconds / 3600,
        "kept_epoch": result.best_epoch,
        "epochs": len(result.history),
        "optimizer_steps": int(result.history["steps"].sum()),
        "minutes": result.seconds / 60,
        "threads": threads,
        "device": str(torch_device),
        "settings": config.to_dict(),
    }
    encoder = model.encoder.to("cpu")
    # The saved encoder carries the time masking that fine-tuning uses (as the hub model's config
    # does), whatever the pretraining ran with.
    encoder.config.mask_time_prob = config.encoder.mask_time_prob
    encoder.config.apply_spec_augment = True
    with atomic_dir(out_dir) as tmp:
        encoder.save_pretrained(tmp)
        processor.save_pretrained(tmp)
        write_csv(tmp / "pretrain_history.csv", result.history)
        plot_curves(result.history, tmp / "pretrain_curves.png", "demo encoder pretraining (CTC)")
        write_json(tmp / "pretrain_metrics.json", metrics)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    log.info(
        "demo encoder saved to %s: held-out WER %.3f after %.1f min (%d epochs)",
        out_dir,
        wer,
        result.seconds / 60,
        len(result.history),
    )
    return PretrainResult(encoder_dir=out_dir, held_out_wer=wer, history=result.history)


def _absolute(path: str, folder: Path) -> str:
    candidate = Path(path)
    if candidate.is_absolute():
        return str(candidate)
    if candidate.exists():
        return str(candidate.resolve())
    return str((folder / candidate).resolve())


def json_fingerprint(settings: dict, splits: dict[str, Split]) -> str:
    """Identifies a pretraining run (its checkpoints resume only the same run)."""
    import hashlib
    import json

    # The utterances' text and length too, not only their ids: a corpus rewritten under the same
    # ids (another synthetic seed) must not resume a checkpoint of the old one.
    facts = {
        "settings": settings,
        "splits": {
            name: [[u.utt_id, u.transcript, round(u.duration, 4)] for u in split.utterances]
            for name, split in splits.items()
        },
    }
    return hashlib.sha1(json.dumps(facts, sort_keys=True).encode()).hexdigest()
