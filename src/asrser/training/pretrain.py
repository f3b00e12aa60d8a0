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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from asrser.common.io import atomic_dir, write_csv, write_json
from asrser.data.batching import AudioStore, load_utterances, read_manifest
from asrser.data.collation import Split
from asrser.runtime.device import resolve_device, set_cpu_threads
from asrser.training.curves import plot_curves
from asrser.training.settings import PretrainConfig, TrainingError
from asrser.training.train import fit

log = logging.getLogger(__name__)


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
    settings: PretrainConfig,
    threads: int = 2,
    device: str = "auto",
    checkpoint_dir: str | Path | None = None,
) -> PretrainResult:
    """Pretrain the demo encoder on `corpus_dir/manifest.csv`; save it to `out_dir`.

    checkpoint_dir (default: a hidden sibling of out_dir) holds the fresh initial encoder, the
    speaker split and the resumable checkpoints; it is removed once out_dir is complete."""
    from asrser.models.demo_encoder import create_demo_encoder
    from asrser.models.model_io import build_model
    from asrser.models.processing import check_vocabulary

    if not isinstance(settings, PretrainConfig):
        raise TypeError(
            "pretrain() takes its settings parsed, as a PretrainConfig "
            "(asrser.training.settings.PretrainConfig.from_dict(config['pretrain'])), got "
            f"{type(settings).__name__}"
        )
    config = settings
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
