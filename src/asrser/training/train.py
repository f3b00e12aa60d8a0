"""Fine-tuning: one model (asr, ser or joint) on one fold's training split, validated each epoch.

AdamW with separate learning rates for the pretrained encoder and the new heads (linear warm-up,
then linear decay), gradient clipping, bf16 autocast on CUDA (fp32 on the CPU), duration-bucketed
batches (asrser.data.batching), time-domain SpecAugment (asrser.training.augment), the best epoch kept by the
validation score:

    asr    score = -WER
    ser    score = accuracy
    joint  score = accuracy - WER  (both tasks count equally: the same order as the mean of
                                    accuracy and 1 - WER)

with ties going to the lower validation loss. With `head_warmup_steps` > 0 the SER and joint
models first fit their emotion heads on the start encoder's embeddings (asrser.training.head_warmup). The
settings are asrser.training.settings.TrainConfig; batches are collated (and kept, or collated ahead
in worker processes) by asrser.data.collation.

The loop itself is asrser.training.trainer (determinism, resuming, non-finite losses); this module
checks the inputs, builds the model, runs the loop and writes the model folder, the history and
the curves.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from asrser import MODEL_TYPES
from asrser.common.config import UNUSED_TRAIN_KEYS
from asrser.common.fingerprint import model_identity
from asrser.common.io import write_csv
from asrser.common.provenance import PROVENANCE_FILE, training_provenance
from asrser.common.text import normalize_transcript
from asrser.data.batching import TEXT_MODELS, AudioStore, load_utterances
from asrser.data.collation import Split
from asrser.runtime.device import resolve_device, set_cpu_threads
from asrser.training.curves import plot_curves
from asrser.training.settings import TrainConfig, TrainingError
from asrser.training.trainer import FitResult, Trainer, seed_everything

log = logging.getLogger(__name__)


def _file_digest(path: str | Path) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def fit(
    model,
    processor,
    train_split: Split,
    valid_split: Split,
    config: TrainConfig,
    checkpoint_dir: str | Path,
    device: torch.device,
    fingerprint: str,
    on_step: Callable[[int, int], None] | None = None,
) -> FitResult:
    """Train `model` in place (resuming from checkpoint_dir when it holds this run's checkpoint)
    and load the best epoch's weights into it; see the module doc.

    fingerprint: identifies the run (settings and data); a checkpoint of another run is discarded.
    on_step(epoch, batch) is called after every batch (tests use it to deliver signals)."""
    if model.config.model in TEXT_MODELS and not any(
        normalize_transcript(u.transcript).split() for u in valid_split.utterances
    ):
        # Its WER would be NaN every epoch, never the best score: the last epoch would be kept
        # whatever it is.
        raise TrainingError(
            f"validation split {valid_split.name}: no utterance has a reference word, and the "
            f"{model.config.model} model's best epoch is chosen by its WER; expected transcripts in the "
            "manifest's transcript column"
        )
    trainer = Trainer(
        model,
        processor,
        train_split,
        valid_split,
        config,
        checkpoint_dir,
        device,
        fingerprint,
        on_step,
    )
    return trainer.run()


def load_split(
    manifest: str | Path, model: str, max_utterance_seconds: float | None, cache: bool, name: str
) -> Split:
    utterances, _ = load_utterances(manifest, model, max_utterance_seconds)
    return Split(name=f"{name} ({manifest})", utterances=utterances, store=AudioStore(cache))


@dataclass
class TrainResult:
    model_dir: Path
    history: pd.DataFrame
    best_epoch: int
    best_score: float
    resumed_from: tuple[int, int] | None


def train(
    manifest_train: str | Path,
    manifest_valid: str | Path,
    model: str,
    init: str,
    out_model_dir: str | Path,
    history_path: str | Path,
    curves_path: str | Path,
    checkpoint_dir: str | Path,
    settings: TrainConfig,
    threads: int = 1,
    device: str = "auto",
    bert_name_or_path: str | None = None,
    bert_finetune: bool = False,
    max_utterance_seconds: float | None = None,
    on_step: Callable[[int, int], None] | None = None,
    bert_hub_id: str | None = None,
) -> TrainResult:
    """Fine-tune a model of type `model` (asr, ser or joint) from the CTC encoder `init` (folder or hub id) and write the best
    epoch's model (save_pretrained folder, with provenance.json: asrser.common.provenance), the history
    CSV and the curves PNG. settings: the model type's TrainConfig, parsed where the job starts
    (asrser.training.settings.train_settings). bert_hub_id: the hub id of a BERT folder filled by hand."""
    from asrser.models.model_io import build_model, save_model
    from asrser.models.processing import check_vocabulary

    if model not in MODEL_TYPES:
        raise TrainingError(f"model must be one of {MODEL_TYPES}, got '{model}'")
    if not isinstance(settings, TrainConfig):
        raise TypeError(
            "train() takes its settings parsed, as a TrainConfig "
            "(asrser.training.settings.train_settings(config['train'], model)), got "
            f"{type(settings).__name__}"
        )
    config = settings
    set_cpu_threads(threads)
    torch_device = resolve_device(device)
    splits = {
        name: load_split(path, model, max_utterance_seconds, config.cache_audio, name)
        for name, path in (("train", manifest_train), ("valid", manifest_valid))
    }
    fingerprint = _fingerprint(
        # Serialized as `task`, the model type's former name: renaming the key would change every
        # fingerprint and make the resume points written before look like another run's.
        task=model,
        # The weights, not only the names: a demo encoder pretrained again in the same folder
        # must not be overwritten by a checkpoint fine-tuned from the one before it.
        init=model_identity(init),
        bert=[model_identity(bert_name_or_path), bert_finetune] if model == "joint" else None,
        config=config.to_dict(),
        max_utterance_seconds=max_utterance_seconds,
        train=_file_digest(manifest_train),
        valid=_file_digest(manifest_valid),
    )
    seed_everything(config.seed)
    hparams_for_model = {"alpha": config.alpha, "dropout": config.head_dropout}
    if model == "joint":
        hparams_for_model["bert_finetune"] = bert_finetune
    if model in TEXT_MODELS:
        hparams_for_model["ctc_head"] = config.ctc_head
    built, processor = build_model(
        model,
        init,
        bert_name_or_path if model == "joint" else None,
        encoder_overrides=dict(config.encoder_overrides),
        bert_hub_id=bert_hub_id if model == "joint" else None,
        **hparams_for_model,
    )
    if model in TEXT_MODELS:
        for name, path in (("train", manifest_train), ("valid", manifest_valid)):
            items = splits[name].utterances
            check_vocabulary(
                processor,
                [u.transcript for u in items],
                [u.utt_id for u in items],
                source=str(path),
            )
    log.info(
        "%s from %s on %s (%d threads): %d training utterances (%.1f min), %d validation (%.1f min)",
        model,
        init,
        torch_device,
        threads,
        len(splits["train"].utterances),
        splits["train"].seconds / 60,
        len(splits["valid"].utterances),
        splits["valid"].seconds / 60,
    )
    result = fit(
        built,
        processor,
        splits["train"],
        splits["valid"],
        config,
        checkpoint_dir,
        torch_device,
        fingerprint,
        on_step=on_step,
    )
    provenance = training_provenance(
        model=model,
        settings=config.to_dict(),
        unused_keys=UNUSED_TRAIN_KEYS.get(model, ()),
        manifests={"train": manifest_train, "valid": manifest_valid},
        encoder=init,
        bert=bert_name_or_path if model == "joint" else None,
        bert_finetune=bert_finetune,
        bert_hub_id=bert_hub_id,
        max_utterance_seconds=max_utterance_seconds,
        device=torch_device,
        threads=threads,
        best_epoch=result.best_epoch,
        seconds=result.seconds,
    )
    save_model(built, processor, out_model_dir, extra_json={PROVENANCE_FILE: provenance})
    write_csv(history_path, result.history)
    plot_curves(result.history, curves_path, f"{model}: {Path(manifest_train).name}")
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return TrainResult(
        model_dir=Path(out_model_dir),
        history=result.history,
        best_epoch=result.best_epoch,
        best_score=result.best_score,
        resumed_from=result.resumed_from,
    )


def _fingerprint(**facts) -> str:
    return hashlib.sha1(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()
