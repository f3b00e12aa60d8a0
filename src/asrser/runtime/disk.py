"""How much disk a study's trainings take, from the configured models' parameter counts.

Per training job (asrser.training.checkpoint), in the checkpoint root while it runs:
    weights file   4 bytes per parameter of the trained model (float32; a frozen BERT is not
                   saved, it is reloaded from its folder)
    resume.pt      AdamW's two float32 moments per trainable parameter (8 bytes each); the
                   frozen convolutions, a frozen BERT and the SER baseline's unused CTC layer
                   have none
    best epoch     a second weights file while the best epoch is not the latest
and while a resume point is saved, the new weights file and resume.pt beside the old ones. Its
model folder (save_pretrained, results/models/...) holds one weights file's worth.

The counts come from the models' config.json: the model is built on torch's meta device (shapes
only, no memory, no weights read) with the trainer's own freezing rules (AsrSerModel
.checkpoint_state_dict and .parameter_groups). benchmarks/bench_paper_size.py checks them against
files written at the paper's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from asrser import MODEL_TYPES

FLOAT32 = 4
# A resume.pt's position, history and random states, and the zip and pickle records of a saved
# state dict (measured: under 0.2 MB at the paper's size); config and processor files of a model
# folder (a few kB).
OVERHEAD_BYTES = 2**20


@dataclass(frozen=True)
class TrainingSizes:
    """Disk of one training job of one model type, in bytes."""

    model: str
    parameters: int  # in the saved weights (buffers included; a frozen BERT left out)
    trainable: int  # with AdamW moments (at most: one never given a gradient has none)
    weights_bytes: int  # one weights file; also the model folder's model.safetensors
    optimizer_bytes: int  # resume.pt

    @property
    def resume_point_bytes(self) -> int:
        """A resume point whose weights are the best epoch's too (the usual case)."""
        return self.weights_bytes + self.optimizer_bytes

    @property
    def checkpoint_bytes(self) -> int:
        """The most a job keeps between saves: the best epoch an older one."""
        return 2 * self.weights_bytes + self.optimizer_bytes

    @property
    def peak_checkpoint_bytes(self) -> int:
        """The most a job holds while saving: the new resume point beside the old and the best."""
        return 3 * self.weights_bytes + 2 * self.optimizer_bytes

    @property
    def model_folder_bytes(self) -> int:
        return self.weights_bytes


def _resolve_folder(name_or_path: str, what: str) -> Path:
    from asrser.common.model_names import resolve_pretrained

    folder = Path(resolve_pretrained(str(name_or_path))).expanduser()
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{what} '{name_or_path}': no config.json in '{folder}'; sizes are computed from a "
            "local model folder (fetch the hub models first)"
        )
    return folder


def _state_bytes(state: dict[str, torch.Tensor]) -> int:
    # Saved as float32 whatever the meta tensors' dtype (the trainer keeps float32 weights).
    return sum(
        t.numel() * (FLOAT32 if t.is_floating_point() else t.element_size()) for t in state.values()
    )


def meta_model(model: str, encoder: str, bert: str | None = None, bert_finetune: bool = False):
    """The model of type `model` (asr, ser or joint) around the encoder (and BERT) in these folders, built on the meta
    device: the trainer's architecture and freezing, without weights."""
    from transformers import AutoConfig, AutoModelForCTC

    from asrser.models.configuration import AsrSerConfig
    from asrser.models.ctc import CTCVocabulary
    from asrser.models.processing import load_processor
    from asrser.models.speech_model import AsrSerModel

    encoder_folder = _resolve_folder(encoder, "encoder")
    tokenizer = load_processor(str(encoder_folder)).tokenizer
    bert_config = None
    if model == "joint":
        if bert is None:
            raise ValueError("the joint model's size needs its BERT folder")
        bert_config = AutoConfig.from_pretrained(_resolve_folder(bert, "BERT")).to_dict()
    with torch.device("meta"):
        ctc_encoder = AutoModelForCTC.from_config(AutoConfig.from_pretrained(encoder_folder))
        config = AsrSerConfig(
            model=model,
            encoder_config=ctc_encoder.config,
            encoder_name_or_path=str(encoder),
            ctc_vocabulary=CTCVocabulary.from_tokenizer(tokenizer).to_dict(),
            bert_config=bert_config,
            bert_name_or_path=bert if model == "joint" else None,
            bert_finetune=bert_finetune and model == "joint",
        )
        return AsrSerModel(config, encoder=ctc_encoder)


def training_sizes(
    encoder: str, bert: str | None = None, bert_finetune: bool = False
) -> dict[str, TrainingSizes]:
    """TrainingSizes of the three model types, for an encoder and BERT given as local folders
    (or "package:NAME"); see the module doc."""
    sizes = {}
    for model in MODEL_TYPES:
        built = meta_model(model, encoder, bert, bert_finetune)
        state = built.checkpoint_state_dict()
        trainable = sum(p.numel() for group in built.parameter_groups().values() for p in group)
        sizes[model] = TrainingSizes(
            model=model,
            parameters=sum(t.numel() for t in state.values()),
            trainable=trainable,
            weights_bytes=_state_bytes(state),
            optimizer_bytes=2 * FLOAT32 * trainable,
        )
    return sizes


@dataclass(frozen=True)
class StudyDisk:
    """A study's disk needs, in bytes."""

    model_folders_bytes: int  # results/models: every trained model
    checkpoints_bytes: int  # the checkpoint root: `concurrent` jobs at their peak

    @property
    def total_bytes(self) -> int:
        return self.model_folders_bytes + self.checkpoints_bytes


def study_disk(
    sizes: dict[str, TrainingSizes], folds: int, concurrent: int, train_conditions: int = 2
) -> StudyDisk:
    """Disk of `folds` x `train_conditions` trainings of each model type, `concurrent` of them
    running at once (each counted at the largest model type's peak)."""
    models = sum(size.model_folder_bytes + OVERHEAD_BYTES for size in sizes.values())
    peak = max(size.peak_checkpoint_bytes + OVERHEAD_BYTES for size in sizes.values())
    return StudyDisk(
        model_folders_bytes=models * folds * train_conditions,
        checkpoints_bytes=peak * concurrent,
    )


def folder_bytes(path: str | Path) -> int:
    """Bytes of the files under `path` (a file: its size; absent: 0)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
