"""CTC vocabulary, loss and greedy decoding.

`CTCVocabulary` is the few facts decoding needs (token per id, blank id, word delimiter, ids that
never appear in text). The model keeps one in its config, so it can decode its own hypotheses
(the joint model feeds them to BERT) without a tokenizer object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional


@dataclass(frozen=True)
class CTCVocabulary:
    tokens: tuple[str, ...]  # token of each id
    blank_id: int
    word_delimiter: str = "|"
    dropped_ids: frozenset[int] = frozenset()  # blank and other special tokens (<unk>, <s>, </s>)

    @classmethod
    def from_tokenizer(cls, tokenizer) -> CTCVocabulary:
        vocab = tokenizer.get_vocab()
        tokens = [""] * len(vocab)
        for token, index in vocab.items():
            if index >= len(tokens):
                raise ValueError(
                    f"tokenizer vocabulary ids are not contiguous: '{token}' has {index}"
                )
            tokens[index] = token
        if tokenizer.pad_token_id is None:
            raise ValueError("tokenizer has no pad token; wav2vec2 CTC models use it as the blank")
        delimiter = getattr(tokenizer, "word_delimiter_token", None) or "|"
        special = {vocab[t] for t in tokenizer.all_special_tokens if t in vocab and t != delimiter}
        return cls(
            tokens=tuple(tokens),
            blank_id=tokenizer.pad_token_id,
            word_delimiter=delimiter,
            dropped_ids=frozenset(special | {tokenizer.pad_token_id}),
        )

    def to_dict(self) -> dict:
        return {
            "tokens": list(self.tokens),
            "blank_id": self.blank_id,
            "word_delimiter": self.word_delimiter,
            "dropped_ids": sorted(self.dropped_ids),
        }

    @classmethod
    def from_dict(cls, data: dict) -> CTCVocabulary:
        return cls(
            tokens=tuple(data["tokens"]),
            blank_id=int(data["blank_id"]),
            word_delimiter=data["word_delimiter"],
            dropped_ids=frozenset(int(i) for i in data["dropped_ids"]),
        )


def as_vocabulary(processor_or_tokenizer) -> CTCVocabulary:
    """A CTCVocabulary from a processor, a Wav2Vec2CTCTokenizer or a CTCVocabulary."""
    if isinstance(processor_or_tokenizer, CTCVocabulary):
        return processor_or_tokenizer
    tokenizer = getattr(processor_or_tokenizer, "tokenizer", processor_or_tokenizer)
    return CTCVocabulary.from_tokenizer(tokenizer)


def greedy_decode(
    logits: Tensor, output_lengths: Tensor | Sequence[int], processor_or_tokenizer
) -> list[str]:
    """Best-path CTC decoding of (B, T, V) logits, each over its first output_lengths[b] frames.

    Argmax per frame, merge repeats, drop blanks and special tokens, delimiter -> space.
    """
    vocabulary = as_vocabulary(processor_or_tokenizer)
    best = logits.detach().argmax(dim=-1).cpu()
    lengths = [int(n) for n in output_lengths]
    texts = []
    for row, length in zip(best, lengths, strict=True):
        ids = torch.unique_consecutive(row[:length]).tolist()
        chars = [
            " " if vocabulary.tokens[i] == vocabulary.word_delimiter else vocabulary.tokens[i]
            for i in ids
            if i not in vocabulary.dropped_ids
        ]
        texts.append(" ".join("".join(chars).split()))
    return texts


def ctc_loss(logits: Tensor, output_lengths: Tensor, labels: Tensor, blank_id: int) -> Tensor:
    """Mean CTC loss as in transformers (per-utterance loss / target length, batch mean).

    labels are padded with -100; infinite losses (targets longer than the frames) are zeroed.
    """
    label_mask = (labels >= 0) & (labels != blank_id)
    target_lengths = label_mask.sum(-1)
    targets = labels.masked_select(label_mask)
    # CTC in float32 whatever the autocast dtype; cuDNN's CTC has stricter input rules.
    log_probs = functional.log_softmax(logits, dim=-1, dtype=torch.float32).transpose(0, 1)
    with torch.backends.cudnn.flags(enabled=False):
        return functional.ctc_loss(
            log_probs,
            targets,
            output_lengths,
            target_lengths,
            blank=blank_id,
            reduction="mean",
            zero_infinity=True,
        )
