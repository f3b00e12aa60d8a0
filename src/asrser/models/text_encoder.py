"""BERT sentence embeddings of ASR hypotheses for the joint model.

Embedding = mean of BERT's last hidden states over the real tokens ([CLS] and [SEP] included,
padding excluded). Mean pooling rather than [CLS]: the demo's MiniLM (all-MiniLM-L6-v2) is trained
for mean pooling, and for a plain bert-base-uncased the mean is the stronger sentence feature.
An empty hypothesis tokenises to [CLS] [SEP] and so still has an embedding. Text is lower-cased
first: the ASR vocabulary is upper case and the BERTs used are uncased.

Frozen by default (eval mode, no gradients, computed under no_grad); `finetune=True` trains it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from asrser.config import resolve_pretrained
from asrser.models.processing import ModelLoadError, check_model_location


def _load_pretrained(auto_class_name: str, name_or_path: str, what: str):
    """`transformers.<auto_class_name>.from_pretrained`, with an error naming the path."""
    import transformers

    path = resolve_pretrained(name_or_path)
    check_model_location(path, what)
    try:
        return getattr(transformers, auto_class_name).from_pretrained(path)
    except Exception as error:
        raise ModelLoadError(
            f"cannot load the {what} '{name_or_path}' (from '{path}') with {auto_class_name}: "
            f"{type(error).__name__}: {error}"
        ) from error


def load_bert_tokenizer(name_or_path: str):
    return _load_pretrained("AutoTokenizer", name_or_path, "BERT tokenizer")


def load_bert_model(name_or_path: str):
    return _load_pretrained("AutoModel", name_or_path, "BERT model")


class SentenceEncoder(nn.Module):
    """texts -> (B, hidden_size) mean-pooled BERT embeddings."""

    def __init__(self, bert: nn.Module, tokenizer, finetune: bool = False, max_tokens: int = 256):
        super().__init__()
        self.bert = bert
        self.tokenizer = tokenizer
        self.finetune = finetune
        self.max_tokens = max_tokens
        if not finetune:
            self.bert.requires_grad_(False)
            self.bert.eval()

    @property
    def hidden_size(self) -> int:
        return self.bert.config.hidden_size

    def train(self, mode: bool = True):
        # A frozen BERT stays in eval mode (no dropout) whatever the surrounding model does.
        super().train(mode and self.finetune)
        return self

    def forward(self, texts: Sequence[str]) -> Tensor:
        device = next(self.bert.parameters()).device
        tokens = self.tokenizer(
            [text.lower() for text in texts],
            padding=True,
            truncation=True,
            max_length=self.max_tokens,
            return_tensors="pt",
        ).to(device)
        with torch.set_grad_enabled(self.finetune and torch.is_grad_enabled()):
            hidden = self.bert(**tokens).last_hidden_state
        mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1)
