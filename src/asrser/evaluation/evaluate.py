"""Scoring a trained model on test manifests: predictions, metrics and timing per evaluation.

One job loads its model once and scores one or several test conditions (the config key
evaluation.jobs decides how many); every (model, condition) pair gets its own predictions CSV,
metrics JSON and log, so both packings give identical outputs.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm
from transformers.utils import logging as transformers_logging

from asrser import EMOTIONS, PREDICTION_COLUMNS
from asrser.common.io import write_csv, write_json
from asrser.data.audio import read_audio
from asrser.data.batching import group_by_duration
from asrser.evaluation.metrics import pooled_wer, ser_scores
from asrser.models.model_io import load_model
from asrser.models.processing import collate
from asrser.runtime.device import autocast, resolve_device, set_cpu_threads

log = logging.getLogger(__name__)


def duration_batches(durations: Sequence[float], max_batch_seconds: float) -> list[list[int]]:
    """Indices in batches of similar duration under the padded-seconds cap (as in training)."""
    order = np.argsort(np.asarray(durations, dtype=float), kind="stable")
    return group_by_duration(durations, order, max_batch_seconds)


def predict_waveforms(
    model,
    processor,
    load: Callable[[int], np.ndarray],
    durations: Sequence[float],
    device: torch.device,
    max_batch_seconds: float,
    texts: Sequence[str] | None = None,
    desc: str = "evaluate",
) -> tuple[list[str], np.ndarray | None]:
    """Run `model.predict` over items 0..n-1 in batches of similar duration.

    load(i) gives item i's float32 mono 16-kHz waveform; texts[i] (optional) is what the joint
    model's BERT reads instead of its hypothesis. Returns the greedy transcripts ("" for an SER
    model) and the (n, emotions) probabilities (None for an ASR model), in item order.
    """
    hypotheses = [""] * len(durations)
    probabilities: list[np.ndarray | None] = [None] * len(durations)
    batches = duration_batches(durations, max_batch_seconds)
    for indices in tqdm(batches, desc=desc, unit="batch", mininterval=5):
        waveforms = [load(i) for i in indices]
        batch = collate(waveforms, None, None, [str(i) for i in indices], processor).to(device)
        with autocast(device):
            out = model.predict(batch, texts=[texts[i] for i in indices] if texts else None)
        for position, index in enumerate(indices):
            if out["transcripts"] is not None:
                hypotheses[index] = out["transcripts"][position]
            if out["emotion_probs"] is not None:
                probabilities[index] = out["emotion_probs"][position]
    if any(p is None for p in probabilities):
        return hypotheses, None
    return hypotheses, np.stack(probabilities) if probabilities else None


def predict_manifest(
    model,
    processor,
    manifest: pd.DataFrame,
    device: torch.device,
    max_batch_seconds: float,
    joint_reads_references: bool = False,
) -> pd.DataFrame:
    """Run `model.predict` over a test manifest; one row per utterance, manifest order.

    joint_reads_references: the joint model's BERT reads the manifest's reference transcripts
    instead of its own hypotheses (an analysis; the study's evaluations never do)."""
    paths = manifest["audio_path"].tolist()
    references = manifest["transcript"].fillna("").tolist()
    hypotheses, probs = predict_waveforms(
        model,
        processor,
        lambda index: read_audio(paths[index]),
        manifest["duration"].tolist(),
        device,
        max_batch_seconds,
        texts=references if joint_reads_references else None,
    )
    frame = pd.DataFrame(
        {
            "utt_id": manifest["utt_id"],
            "speaker": manifest["speaker"],
            "ref_transcript": references,
            "ref_emotion": manifest["emotion"],
            "hyp_transcript": hypotheses,
        }
    )
    if probs is not None:
        frame["pred_emotion"] = [EMOTIONS[i] for i in probs.argmax(axis=1)]
        for column, emotion in enumerate(EMOTIONS):
            frame[f"prob_{emotion}"] = probs[:, column]
    else:
        frame["pred_emotion"] = ""
        for emotion in EMOTIONS:
            frame[f"prob_{emotion}"] = np.nan
    return frame


def score(predictions: pd.DataFrame, model: str) -> dict:
    """Metrics of one evaluation (the pooled Table 1 figures are computed by the report stage)."""
    metrics: dict = {"n_utts": len(predictions)}
    if model in ("asr", "joint"):
        metrics["wer"] = pooled_wer(
            predictions["ref_transcript"].tolist(), predictions["hyp_transcript"].tolist()
        )
    if model in ("ser", "joint"):
        scores = ser_scores(
            predictions["ref_emotion"].tolist(), predictions["pred_emotion"].tolist()
        )
        metrics.update(
            weighted_accuracy=scores.weighted_accuracy,
            unweighted_accuracy=scores.unweighted_accuracy,
            macro_f1=scores.macro_f1,
            confusion=np.asarray(scores.confusion).tolist(),
        )
    return metrics


def evaluate_model(
    model_dir: str | Path,
    manifests: Sequence[str | Path],
    conditions: Sequence[str],
    predictions_paths: Sequence[str | Path],
    metrics_paths: Sequence[str | Path],
    fold: str,
    device: str = "auto",
    threads: int = 1,
    max_batch_seconds: float = 60.0,
    process_started: float | None = None,
    on_condition=None,
) -> None:
    """Score one trained model on each (condition, manifest); write predictions and metrics.

    `on_condition(index)` returns a context manager entered around each condition (the
    workflow uses it to give every evaluation its own log). `process_started` (a time.time()
    stamp) lets the metrics split wall time into start-up and inference.
    """
    if not len(manifests) == len(conditions) == len(predictions_paths) == len(metrics_paths):
        raise ValueError("manifests, conditions and output paths must have the same length")
    set_cpu_threads(threads)
    transformers_logging.disable_progress_bar()  # weight-loading bars would flood the job log
    load_started = time.time()
    torch_device = resolve_device(device)
    model, processor = load_model(model_dir, device=torch_device)
    loaded = time.time()
    startup_s = loaded - (process_started if process_started is not None else load_started)
    log.info(
        "loaded %s (%s) on %s in %.2f s",
        model_dir,
        model.config.model,
        torch_device,
        loaded - load_started,
    )
    for index, condition in enumerate(conditions):
        context = on_condition(index) if on_condition is not None else contextlib.nullcontext()
        with context:
            manifest = pd.read_csv(manifests[index], keep_default_na=False)
            _check_manifest(manifest, manifests[index])
            started = time.perf_counter()
            predictions = predict_manifest(
                model, processor, manifest, torch_device, max_batch_seconds
            )
            inference_s = time.perf_counter() - started
            predictions.insert(2, "fold", fold)
            predictions = predictions[list(PREDICTION_COLUMNS)]
            metrics = score(predictions, model.config.model)
            audio_s = float(manifest["duration"].sum())
            metrics.update(
                model_dir=str(model_dir),
                model=model.config.model,
                condition=condition,
                fold=fold,
                device=str(torch_device),
                threads=threads,
                startup_s=round(startup_s, 3),
                inference_s=round(inference_s, 3),
                audio_s=round(audio_s, 3),
                real_time_factor=round(inference_s / audio_s, 5) if audio_s else None,
            )
            write_csv(predictions_paths[index], predictions)
            write_json(metrics_paths[index], metrics)
            log.info(
                "%s: %d utterances, %.1f s audio in %.2f s (RTF %.4f); %s",
                condition,
                len(manifest),
                audio_s,
                inference_s,
                metrics["real_time_factor"] or 0.0,
                {k: round(v, 4) for k, v in metrics.items() if k in ("wer", "weighted_accuracy")},
            )


def _check_manifest(manifest: pd.DataFrame, path) -> None:
    missing = {"utt_id", "speaker", "emotion", "transcript", "audio_path", "duration"} - set(
        manifest
    )
    if missing:
        raise ValueError(f"{path}: test manifest lacks columns {sorted(missing)}")
