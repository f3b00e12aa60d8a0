"""AsrSerConfig: the configuration saved as config.json beside each trained model.

It nests the encoder's own wav2vec2-family config (so the encoder is rebuilt with
AutoModelForCTC.from_config on reload) and, for the joint model, the BERT config (bert_config) (so the fusion
layers know its width before BERT's weights are loaded).
"""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from asrser import EMOTIONS, MODEL_TYPES

CTC_HEADS = ("reuse", "new")


@strict
class AsrSerConfig(PreTrainedConfig):
    """model: the model type, "asr" (encoder + CTC), "ser" (encoder + mean pooling + MLP) or "joint" (both, with
    BERT on the ASR hypotheses); alpha weighs the joint loss alpha*CE + (1-alpha)*CTC; dropout is
    the emotion heads'."""

    model_type = "asrser"
    sub_configs_defaults = {
        "encoder_config": SubConfigSpec(config_class=AutoConfig, model_type="wav2vec2"),
        "bert_config": SubConfigSpec(config_class=AutoConfig, model_type="bert", optional=True),
    }

    model: str = "joint"  # the model type (written as `task` before; still read)
    encoder_config: PreTrainedConfig | dict | None = None
    encoder_name_or_path: str | None = None
    # The encoder's feature extractor wants its attention mask passed (lv60-style and
    # Wav2Vec2Bert); group-norm wav2vec2 models are fed zero-padded input without it.
    pass_attention_mask: bool = True
    freeze_feature_encoder: bool = True
    ctc_vocabulary: dict | None = None  # CTCVocabulary.to_dict() of the encoder's tokenizer
    bert_config: PreTrainedConfig | dict | None = None
    # The BERT as configured: a hub id, "package:NAME" or a folder. For a hub model also the
    # commit it was fetched at and the folder it was loaded from, so that a frozen BERT reloads
    # offline from there (asrser.models.text_encoder.bert_source).
    bert_name_or_path: str | None = None
    bert_revision: str | None = None
    bert_folder: str | None = None
    bert_finetune: bool = False
    bert_max_tokens: int = 256
    emotions: list[str] | tuple[str, ...] = EMOTIONS
    ser_hidden_size: int = 256
    fusion_size: int = 256
    fusion_ff_size: int = 512
    # What the model type uses: None where it uses none (alpha: joint only; the heads' dropout:
    # ser and joint), so that config.json never shows a value that played no part.
    dropout: float | None = 0.1
    alpha: float | None = 0.1
    initializer_range: float = 0.02
    # The CTC head of asr and joint: "reuse" the encoder's pretrained lm_head (fine-tuned with the
    # encoder) or "new", the same layer freshly initialised and trained as a new head.
    ctc_head: str = "reuse"

    def __post_init__(self, **kwargs):
        # A config.json written before the model type was named `model` holds it as `task`.
        if "task" in kwargs:
            self.model = kwargs.pop("task")
        self.emotions = list(self.emotions)
        self.id2label = dict(enumerate(self.emotions))
        self.label2id = {name: index for index, name in enumerate(self.emotions)}
        super().__post_init__(**kwargs)

    def validate_architecture(self):
        if self.model not in MODEL_TYPES:
            raise ValueError(f"model must be one of {MODEL_TYPES}, got '{self.model}'")
        if self.model == "joint" and self.alpha is None:
            raise ValueError("the joint model needs alpha")
        if self.alpha is not None and not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {self.alpha}")
        if self.model != "asr" and self.dropout is None:
            raise ValueError(f"the {self.model} model's heads need a dropout")
        if self.dropout is not None and not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")
        if self.ctc_head not in CTC_HEADS:
            raise ValueError(f"ctc_head must be one of {CTC_HEADS}, got {self.ctc_head!r}")
        if self.model == "joint" and not self.bert_name_or_path:
            raise ValueError("the joint model needs bert_name_or_path")
