"""Building a model from its pretrained parts, saving it and loading it back (see speech_model).

`build_model` starts from a pretrained CTC encoder folder (and, for the joint model, a BERT);
`save_model` / `load_model` round-trip a trained model through save_pretrained /
from_pretrained, with errors that name the folder at fault.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AutoModelForCTC, PreTrainedModel

from asrser import MODEL_TYPES
from asrser.common.io import atomic_dir, write_json
from asrser.common.model_names import resolve_pretrained
from asrser.models.configuration import AsrSerConfig
from asrser.models.ctc import CTCVocabulary
from asrser.models.processing import (
    ModelLoadError,
    check_model_files,
    check_model_location,
    load_processor,
)
from asrser.models.speech_model import AsrSerModel
from asrser.models.text_encoder import (
    SentenceEncoder,
    bert_origin,
    load_bert_model,
    load_bert_tokenizer,
)
from asrser.runtime.hub import read_fetch_record

# Keys build_model accepts as **hparams (AsrSerConfig fields a user may set).
HPARAMS = (
    "bert_finetune",
    "bert_max_tokens",
    "emotions",
    "ser_hidden_size",
    "fusion_size",
    "fusion_ff_size",
    "dropout",
    "alpha",
    "freeze_feature_encoder",
    "initializer_range",
    "ctc_head",
)


def load_ctc_encoder(name_or_path: str, **config_overrides) -> PreTrainedModel:
    """AutoModelForCTC.from_pretrained, with a ModelLoadError naming the model on failure."""
    path = resolve_pretrained(str(name_or_path))
    check_model_location(path, "encoder")
    if Path(path).expanduser().is_dir():
        check_model_files(Path(path).expanduser(), what="encoder")
    try:
        return AutoModelForCTC.from_pretrained(path, **config_overrides)
    except Exception as error:
        raise ModelLoadError(
            f"cannot load the encoder '{name_or_path}' with AutoModelForCTC.from_pretrained "
            f"(expected a wav2vec2-family CTC model: hub name or saved folder): "
            f"{type(error).__name__}: {error}"
        ) from error


def _check_processor_matches(processor, vocab_size: int, where: str) -> None:
    if len(processor.tokenizer) != vocab_size:
        raise ModelLoadError(
            f"'{where}': the tokenizer has {len(processor.tokenizer)} tokens but the CTC head "
            f"{vocab_size} outputs; the processor does not belong to this model"
        )


# HPARAMS that only some model types use; the others record None (see speech_model's doc).
MODEL_HPARAMS = {"alpha": ("joint",), "dropout": ("ser", "joint")}


def build_model(
    model: str,
    encoder_name_or_path: str,
    bert_name_or_path: str | None = None,
    encoder_overrides: dict | None = None,
    bert_hub_id: str | None = None,
    **hparams,
) -> tuple[AsrSerModel, object]:
    """A new model of type `model` (asr, ser or joint) around the pretrained CTC encoder (and, for joint, the BERT).

    encoder_overrides: encoder config values to change on load (e.g. mask_time_prob, layerdrop).
    bert_hub_id: the hub id of a BERT folder filled by hand (a fetched one records its own), kept
    in the config so the frozen BERT can be found again elsewhere. hparams: any of HPARAMS;
    alpha and dropout are recorded only for the model types that use them; ctc_head "new" (asr,
    joint) initialises the encoder's lm_head afresh (torch's default initialisation of a linear
    layer, drawn from torch's global generator). Returns (model, processor) with the model in
    training mode."""
    if model not in MODEL_TYPES:
        raise ValueError(f"model must be one of {MODEL_TYPES}, got '{model}'")
    unknown = sorted(set(hparams) - set(HPARAMS))
    if unknown:
        raise TypeError(f"unknown model hyper-parameters {unknown}; expected some of {HPARAMS}")
    encoder = load_ctc_encoder(encoder_name_or_path, **(encoder_overrides or {}))
    processor = load_processor(resolve_pretrained(str(encoder_name_or_path)))
    _check_processor_matches(processor, encoder.config.vocab_size, encoder_name_or_path)

    for name, models in MODEL_HPARAMS.items():
        if model not in models:
            hparams[name] = None
    text_encoder = None
    bert_config = None
    origin = {}
    if model == "joint":
        if not bert_name_or_path:
            raise ValueError(
                "the joint model needs bert_name_or_path (config key 'bert.name_or_path')"
            )
        text_encoder = SentenceEncoder(
            load_bert_model(bert_name_or_path),
            load_bert_tokenizer(bert_name_or_path),
            finetune=bool(hparams.get("bert_finetune", False)),
            max_tokens=int(hparams.get("bert_max_tokens", 256)),
        )
        bert_config = text_encoder.bert.config.to_dict()
        origin = bert_origin(bert_name_or_path, bert_hub_id)

    config = AsrSerConfig(
        model=model,
        encoder_config=encoder.config,
        # Else the new config's default (None) would be pushed down onto the encoder's config.
        attn_implementation=encoder.config._attn_implementation,
        encoder_name_or_path=_encoder_name(encoder_name_or_path),
        pass_attention_mask=bool(
            getattr(processor.feature_extractor, "return_attention_mask", True)
        ),
        ctc_vocabulary=CTCVocabulary.from_tokenizer(processor.tokenizer).to_dict(),
        bert_config=bert_config,
        **origin,
        **hparams,
    )
    built = AsrSerModel(config, encoder=encoder, text_encoder=text_encoder)
    if config.ctc_head == "new" and model != "ser":
        # SpeechBrain's CTC recipes train a fresh output layer on top of the encoder.
        built.encoder.lm_head.reset_parameters()
    built.train()
    return built, processor


def _encoder_name(name_or_path: str) -> str:
    """The encoder as config.json names it: a fetched folder's hub id, else the name given."""
    folder = Path(resolve_pretrained(str(name_or_path))).expanduser()
    record = read_fetch_record(folder) if folder.is_dir() else None
    return (record or {}).get("hub_id") or str(name_or_path)


def save_model(
    model: AsrSerModel, processor, out_dir: str | Path, extra_json: dict | None = None
) -> Path:
    """save_pretrained the model and its processor into one folder (atomically), with
    `extra_json` ({file name: object}, e.g. provenance.json) written into it as JSON."""
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp)
        processor.save_pretrained(tmp)
        for name, content in (extra_json or {}).items():
            write_json(tmp / name, content)
    return out_dir


def _saved_model_type(model_dir: Path) -> str | None:
    """config.json's model_type (None when it has none or is no JSON object)."""
    try:
        saved = json.loads((model_dir / "config.json").read_text())
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"cannot read '{model_dir / 'config.json'}': {error}") from error
    return saved.get("model_type") if isinstance(saved, dict) else None


def load_model(model_dir: str | Path, device: str | torch.device | None = None):
    """(model, processor) from a save_model folder, through from_pretrained; model in eval mode."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise ModelLoadError(f"'{model_dir}' is not a saved model folder (no config.json)")
    check_model_files(model_dir, what="trained model")
    processor = load_processor(model_dir)
    model_type = _saved_model_type(model_dir)
    if model_type != AsrSerConfig.model_type:
        # E.g. the start encoder's folder, or a hub wav2vec2: from_pretrained would fail with
        # a message about the joint model's BERT.
        raise ModelLoadError(
            f"'{model_dir}' holds a model of type {model_type!r}, not one trained by this "
            f"pipeline (config.json model_type {AsrSerConfig.model_type!r}); expected a folder "
            "such as results/models/joint-clean/Ses01F/model"
        )
    try:
        model = AsrSerModel.from_pretrained(model_dir)
    except ModelLoadError:
        raise
    except Exception as error:
        message = " ".join(str(error).split())  # one line: validators span several
        raise ModelLoadError(
            f"cannot load the model in '{model_dir}': {type(error).__name__}: {message}"
        ) from error
    _check_processor_matches(processor, model.config.encoder_config.vocab_size, str(model_dir))
    if device is not None:
        model.to(device)
    model.eval()
    return model, processor
