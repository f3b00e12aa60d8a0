"""How well the encoder the 60 trainings start from transcribes the corpus' clean speech.

The paper starts from wav2vec2-large-960h-lv60-self, a LibriSpeech ASR model; the embedded default
from the demo encoder it pretrains on other voices and sentences. Decoding the clean IEM4 corpus
(all speakers) with that encoder's own CTC head, before any fine-tuning, tells a user what the
fine-tuning starts from: the zero-shot WER (and CER), pooled and per speaker.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd
from transformers.utils import logging as transformers_logging

from asrser.common.io import write_csv, write_json
from asrser.evaluation.evaluate import predict_manifest
from asrser.evaluation.metrics import pooled_cer, pooled_wer
from asrser.models.model_io import build_model
from asrser.runtime.device import resolve_device, set_cpu_threads

log = logging.getLogger(__name__)


def score_start_encoder(
    encoder_name_or_path: str,
    manifest_path: str | Path,
    predictions_path: str | Path,
    metrics_path: str | Path,
    device: str = "auto",
    threads: int = 1,
    max_batch_seconds: float = 60.0,
) -> dict:
    """Greedy-decode `manifest_path` with the encoder's CTC head; write predictions and metrics."""
    set_cpu_threads(threads)
    transformers_logging.disable_progress_bar()
    torch_device = resolve_device(device)
    model, processor = build_model("asr", str(encoder_name_or_path))
    model.to(torch_device).eval()
    manifest = pd.read_csv(manifest_path, keep_default_na=False)
    started = time.perf_counter()
    predictions = predict_manifest(model, processor, manifest, torch_device, max_batch_seconds)
    seconds = time.perf_counter() - started
    columns = ["utt_id", "speaker", "ref_emotion", "ref_transcript", "hyp_transcript"]
    predictions = predictions[columns]

    def rates(frame: pd.DataFrame) -> dict:
        references = frame["ref_transcript"].tolist()
        hypotheses = frame["hyp_transcript"].tolist()
        return {
            "wer": pooled_wer(references, hypotheses),
            "cer": pooled_cer(references, hypotheses),
            "n_utts": len(frame),
        }

    metrics = {
        "encoder": str(encoder_name_or_path),
        "manifest": str(manifest_path),
        **rates(predictions),
        "per_speaker": {
            speaker: rates(rows) for speaker, rows in predictions.groupby("speaker", sort=True)
        },
        "audio_s": round(float(manifest["duration"].sum()), 3),
        "inference_s": round(seconds, 3),
        "device": str(torch_device),
        "threads": threads,
    }
    write_csv(predictions_path, predictions)
    write_json(metrics_path, metrics)
    log.info(
        "start encoder %s on %s: WER %.3f, CER %.3f over %d utterances",
        encoder_name_or_path,
        manifest_path,
        metrics["wer"],
        metrics["cer"],
        metrics["n_utts"],
    )
    return metrics
