"""Stand-ins of the paper's encoder and BERT (random weights, built offline): the published
sizes, and the same loading path as the real checkpoints."""

from __future__ import annotations

import numpy as np
import torch
from transformers import AutoModel, AutoModelForCTC, BertConfig

from asrser.models import build_model, collate
from asrser.models.demo_encoder import TINY_WAV2VEC2_SIZE
from asrser.models.paper_architecture import (
    create_paper_bert,
    create_paper_encoder,
    paper_encoder_config,
)

SHRUNK_BERT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


def _parameters(model) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def test_the_architectures_have_the_published_sizes():
    with torch.device("meta"):  # shapes only: no memory, no time
        encoder = AutoModelForCTC.from_config(paper_encoder_config())
        bert = AutoModel.from_config(BertConfig())
    # wav2vec2-large-960h-lv60-self: 315 M parameters; bert-base-uncased: 110 M.
    assert 314e6 < _parameters(encoder) < 317e6
    assert 109e6 < _parameters(bert) < 111e6
    assert encoder.config.do_stable_layer_norm and encoder.config.feat_extract_norm == "layer"


def test_stand_ins_load_and_run_as_the_real_checkpoints_do(tmp_path):
    encoder = create_paper_encoder(tmp_path / "encoder", **TINY_WAV2VEC2_SIZE)
    bert = create_paper_bert(tmp_path / "bert", **SHRUNK_BERT)
    model, processor = build_model("joint", str(encoder), str(bert))
    assert model.config.pass_attention_mask  # lv60 input: attention masks passed
    rng = np.random.default_rng(0)
    audio = [0.1 * rng.standard_normal(n).astype(np.float32) for n in (16000, 9600)]
    batch = collate(audio, ["I MISS HER", "GOOD NEWS"], ["sad", "hap"], ["a", "b"], processor)
    out = model(batch)
    assert torch.isfinite(out.loss)
    assert out.emotion_logits.shape == (2, 4)
    # BERT's tokenizer spells words out letter by letter: [CLS] g o o d [SEP].
    tokens = model.text_encoder.tokenizer(["good"])["input_ids"][0]
    assert len(tokens) == 6 and max(tokens) < model.text_encoder.bert.config.vocab_size
