"""The ASR baseline, the SER baseline and the joint ASR-SER model: one PreTrainedModel class.

    asr:   encoder -> CTC head (the encoder's own lm_head, pretrained or, with ctc_head "new",
           freshly initialised) -> CTC loss; greedy decoding
    ser:   encoder -> mean over valid frames -> MLP -> 4 emotions (cross-entropy)
    joint: shared encoder -> CTC branch as asr; the batch's greedy hypotheses (no gradient through
           decoding) -> BERT sentence embedding; acoustic pooled embedding and linguistic
           embedding each through a feed-forward block with a skip connection; concatenated;
           linear classifier. Loss alpha*CE + (1-alpha)*CTC.

The encoder is whatever AutoModelForCTC loads (Wav2Vec2ForCTC for the paper, Wav2Vec2BertForCTC for
the demo): its base model gives the hidden states, its dropout + lm_head the CTC logits, its
length function the frame masks. `model_io.build_model` starts from a pretrained encoder folder;
`model_io.save_model` / `load_model` round-trip a trained model through save_pretrained /
from_pretrained.

A frozen BERT is not written into model.safetensors (20 joint models would each carry a copy of
the same 90-440 MB): the config keeps its name, resolved commit and folder, and from_pretrained
reloads it from there (asrser.models.text_encoder.bert_source). A fine-tuned BERT is part of the
trained weights and is saved (and restored) with them.

The config records the alpha and head dropout a model type uses, and null for those it does not
(alpha outside the joint model, the heads' dropout in the ASR baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional
from transformers import AutoConfig, AutoModel, AutoModelForCTC, PreTrainedModel

from asrser.models.configuration import AsrSerConfig
from asrser.models.ctc import CTCVocabulary, ctc_loss, greedy_decode
from asrser.models.heads import FeedForwardSkip, SerHead
from asrser.models.pooling import encoder_output_lengths, masked_mean
from asrser.models.processing import Batch
from asrser.models.text_encoder import (
    SentenceEncoder,
    load_recorded_bert,
    load_recorded_tokenizer,
)


@dataclass
class AsrSerOutput:
    loss: Tensor | None = None  # the model type's training loss (None without targets)
    ctc_loss: Tensor | None = None
    ser_loss: Tensor | None = None
    ctc_logits: Tensor | None = None  # (B, T, V), asr and joint
    emotion_logits: Tensor | None = None  # (B, n_emotions), ser and joint
    output_lengths: Tensor | None = None  # (B,) valid encoder frames
    hypotheses: list[str] | None = None  # greedy CTC transcripts, when decoded
    acoustic_embedding: Tensor | None = None  # (B, H) pooled encoder states, ser and joint
    linguistic_embedding: Tensor | None = None  # (B, BERT width) of what BERT read, joint


class AsrSerModel(PreTrainedModel):
    config_class = AsrSerConfig
    config: AsrSerConfig
    base_model_prefix = "asrser"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flex_attn = True

    def __init__(
        self,
        config: AsrSerConfig,
        encoder: PreTrainedModel | None = None,
        text_encoder: SentenceEncoder | None = None,
    ):
        """Build from config (reload path: the encoder from its nested config, weights loaded by
        from_pretrained), or around an already loaded encoder / text encoder (build_model)."""
        super().__init__(config)
        if encoder is None:
            encoder = AutoModelForCTC.from_config(config.encoder_config)
        self.encoder = encoder
        # The encoder's layers hold its config object: keep that very object as the nested config
        # so that saving, and settings made on the model (attention implementation), see the truth.
        self.config.encoder_config = encoder.config
        if config.ctc_vocabulary is None:
            raise ValueError(
                "AsrSerConfig.ctc_vocabulary is missing; build models with build_model"
            )
        self.vocabulary = CTCVocabulary.from_dict(config.ctc_vocabulary)
        encoder_size = _encoder_output_size(config.encoder_config)
        n_classes = len(config.emotions)

        self.text_encoder = None
        if config.model == "ser":
            self.ser_head = SerHead(encoder_size, config.ser_hidden_size, n_classes, config.dropout)
        elif config.model == "joint":
            if config.bert_config is None:
                raise ValueError("the joint model's config has no bert_config")
            sizes = (config.fusion_size, config.fusion_ff_size, config.dropout)
            self.acoustic_block = FeedForwardSkip(encoder_size, *sizes)
            self.linguistic_block = FeedForwardSkip(config.bert_config.hidden_size, *sizes)
            self.classifier = nn.Sequential(
                nn.Dropout(config.dropout), nn.Linear(2 * config.fusion_size, n_classes)
            )
            if text_encoder is None and config.bert_finetune:
                # Architecture only: from_pretrained fills in the saved fine-tuned weights.
                text_encoder = SentenceEncoder(
                    AutoModel.from_config(config.bert_config),
                    load_recorded_tokenizer(*_recorded_bert(config)),
                    finetune=True,
                    max_tokens=config.bert_max_tokens,
                )
        self.post_init()
        if text_encoder is not None:
            self.attach_text_encoder(text_encoder)
        self._freeze_unused_and_frozen_parts()

    # ----------------------------------------------------------------------------------- setup
    def _freeze_unused_and_frozen_parts(self) -> None:
        if self.config.freeze_feature_encoder and hasattr(self.encoder, "freeze_feature_encoder"):
            self.encoder.freeze_feature_encoder()  # wav2vec2's conv stack (absent in w2v-BERT)
        if self.config.model == "ser":
            self.encoder.lm_head.requires_grad_(False)  # the SER baseline has no CTC branch

    def attach_text_encoder(self, text_encoder: SentenceEncoder) -> None:
        """Install the joint model's BERT; a frozen one is left out of save_pretrained."""
        if text_encoder.hidden_size != self.config.bert_config.hidden_size:
            raise ValueError(
                f"BERT '{self.config.bert_name_or_path}' has hidden size {text_encoder.hidden_size}, "
                f"the model was built for {self.config.bert_config.hidden_size}"
            )
        self.text_encoder = text_encoder
        self.text_encoder.train(self.training)
        if not self.config.bert_finetune:
            self._keys_to_ignore_on_save = set(self._keys_to_ignore_on_save or ()) | {
                f"text_encoder.{key}" for key in text_encoder.state_dict()
            }

    def load_text_encoder(self) -> None:
        """Load the frozen BERT the config records (from_pretrained does this automatically)
        onto the encoder's device."""
        bert, tokenizer = load_recorded_bert(*_recorded_bert(self.config))
        text_encoder = SentenceEncoder(
            bert,
            tokenizer,
            finetune=False,
            max_tokens=self.config.bert_max_tokens,
        )
        self.attach_text_encoder(text_encoder.to(next(self.encoder.parameters()).device))

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        model = super().from_pretrained(*args, **kwargs)
        # Loading replaces the parameters, so requires_grad=False set in __init__ is lost.
        model._freeze_unused_and_frozen_parts()
        if model.config.model == "joint" and model.text_encoder is None:
            model.load_text_encoder()
        return model

    def checkpoint_state_dict(self) -> dict[str, Tensor]:
        """state_dict() without the frozen BERT (the same weights as the config's BERT path)."""
        frozen = self._keys_to_ignore_on_save or set()
        return {key: value for key, value in self.state_dict().items() if key not in frozen}

    def load_checkpoint_state_dict(self, state: dict[str, Tensor]) -> None:
        """Inverse of checkpoint_state_dict (for resuming training); every other key must match."""
        result = self.load_state_dict(state, strict=False)
        missing = set(result.missing_keys) - set(self._keys_to_ignore_on_save or ())
        if missing or result.unexpected_keys:
            raise KeyError(
                f"checkpoint does not fit this {self.config.model} model: missing {sorted(missing)[:5]}, "
                f"unexpected {sorted(result.unexpected_keys)[:5]}"
            )

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """Trainable parameters for separate learning rates: "encoder" (the pretrained wav2vec2
        including its CTC head, and BERT when fine-tuned) and "heads" (the new SER / fusion
        layers, and a CTC head initialised afresh, ctc_head "new"). Frozen parts (conv feature
        encoder, frozen BERT, SER's unused CTC head) are left out."""
        pretrained = list(self.encoder.parameters())
        if self.config.ctc_head == "new" and self.config.model != "ser":
            fresh = {id(p) for p in self.encoder.lm_head.parameters()}
            pretrained = [p for p in pretrained if id(p) not in fresh]
        if self.text_encoder is not None and self.config.bert_finetune:
            pretrained += list(self.text_encoder.parameters())
        pretrained_ids = {id(p) for p in pretrained}
        heads = [p for p in self.parameters() if id(p) not in pretrained_ids]
        return {
            "encoder": [p for p in pretrained if p.requires_grad],
            "heads": [p for p in heads if p.requires_grad],
        }

    # ---------------------------------------------------------------------------------- forward
    def encode(self, batch: Batch) -> tuple[Tensor, Tensor]:
        """Encoder hidden states (B, T, H) and valid frames per utterance (B,)."""
        inputs = dict(batch.inputs)
        attention_mask = inputs.get("attention_mask")
        if not self.config.pass_attention_mask:
            inputs.pop("attention_mask", None)
        hidden = self.encoder.base_model(**inputs).last_hidden_state
        return hidden, encoder_output_lengths(self.encoder, attention_mask, hidden.shape[1])

    def forward(
        self, batch: Batch, decode: bool | None = None, texts: list[str] | None = None
    ) -> AsrSerOutput:
        """Losses are computed for the targets the batch carries. decode: greedy-decode the CTC
        logits (always for joint, which needs them; default for asr: only in eval mode).
        texts: what the joint model's BERT reads instead of its own hypotheses (an analysis of
        how much the transcripts' errors cost, e.g. with the reference transcripts)."""
        model = self.config.model
        hidden, output_lengths = self.encode(batch)
        out = AsrSerOutput(output_lengths=output_lengths)

        if model in ("asr", "joint"):
            out.ctc_logits = self.encoder.lm_head(self.encoder.dropout(hidden))
            if batch.labels is not None:
                out.ctc_loss = ctc_loss(
                    out.ctc_logits, output_lengths, batch.labels, self.vocabulary.blank_id
                )
            if model == "joint" or (decode if decode is not None else not self.training):
                out.hypotheses = greedy_decode(out.ctc_logits, output_lengths, self.vocabulary)

        if model in ("ser", "joint"):
            if texts is not None and len(texts) != len(batch):
                raise ValueError(f"{len(texts)} texts for a batch of {len(batch)}")
            pooled, linguistic = self.emotion_inputs(
                hidden, output_lengths, out.hypotheses if texts is None else list(texts)
            )
            out.acoustic_embedding, out.linguistic_embedding = pooled, linguistic
            out.emotion_logits = self.classify_emotion(pooled, linguistic)
            if batch.emotions is not None:
                out.ser_loss = functional.cross_entropy(out.emotion_logits.float(), batch.emotions)

        if model == "asr":
            out.loss = out.ctc_loss
        elif model == "ser":
            out.loss = out.ser_loss
        elif out.ctc_loss is not None and out.ser_loss is not None:
            alpha = self.config.alpha
            out.loss = alpha * out.ser_loss + (1.0 - alpha) * out.ctc_loss
        return out

    def emotion_inputs(
        self, hidden: Tensor, output_lengths: Tensor, texts: list[str] | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """What the emotion head reads: the acoustic embedding (mean over valid frames) and, for
        joint, the BERT embedding of `texts` (the model's hypotheses in training and testing)."""
        frames = torch.arange(hidden.shape[1], device=hidden.device)
        pooled = masked_mean(hidden, frames.unsqueeze(0) < output_lengths.unsqueeze(1))
        if self.config.model != "joint":
            return pooled, None
        if self.text_encoder is None:
            raise RuntimeError("joint model without its BERT: call load_text_encoder()")
        if texts is None:
            raise ValueError("the joint model's emotion head needs the texts BERT reads")
        return pooled, self.text_encoder(texts).to(pooled.dtype)

    def classify_emotion(self, pooled: Tensor, linguistic: Tensor | None = None) -> Tensor:
        """Emotion logits (B, n_emotions) from emotion_inputs' embeddings."""
        if self.config.model == "ser":
            return self.ser_head(pooled)
        fused = torch.cat([self.acoustic_block(pooled), self.linguistic_block(linguistic)], dim=-1)
        return self.classifier(fused)

    def emotion_head_modules(self) -> list[nn.Module]:
        """The layers on top of emotion_inputs (empty for asr)."""
        if self.config.model == "ser":
            return [self.ser_head]
        if self.config.model == "joint":
            return [self.acoustic_block, self.linguistic_block, self.classifier]
        return []

    @torch.no_grad()
    def predict(self, batch: Batch, texts: list[str] | None = None) -> dict:
        """{"transcripts": greedy hypotheses or None, "emotion_probs": (B, n_emotions) float32
        numpy array in config.emotions order, or None}; eval mode, no gradients. texts: see
        forward."""
        was_training = self.training
        self.eval()
        try:
            out = self.forward(batch, decode=True, texts=texts)
        finally:
            self.train(was_training)
        probs = None
        if out.emotion_logits is not None:
            probs = out.emotion_logits.float().softmax(dim=-1).cpu().numpy().astype(np.float32)
        return {"transcripts": out.hypotheses, "emotion_probs": probs}


def _recorded_bert(config: AsrSerConfig) -> tuple[str, str | None, str | None]:
    """(name, commit, folder) of the BERT a joint model's config records."""
    return config.bert_name_or_path, config.bert_revision, config.bert_folder


def _encoder_output_size(encoder_config) -> int:
    if getattr(encoder_config, "add_adapter", False):
        return encoder_config.output_hidden_size
    return encoder_config.hidden_size


AutoConfig.register(AsrSerConfig.model_type, AsrSerConfig, exist_ok=True)
AutoModel.register(AsrSerConfig, AsrSerModel, exist_ok=True)
