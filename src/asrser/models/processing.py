"""Processor loading, the vocabulary check and batch collation.

The processor is whatever AutoProcessor loads from the encoder's folder: a feature extractor
(raw waveform for wav2vec2, log-mel for Wav2Vec2Bert) plus a Wav2Vec2CTCTokenizer. Transcripts are
normalised (asrser.common.text) and spelt with the tokenizer, spaces becoming the word delimiter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from asrser import EMOTIONS, SAMPLE_RATE
from asrser.common.model_names import is_local_model_path
from asrser.common.tensors import aligned
from asrser.common.text import normalize_transcript
from asrser.models.fbank import vectorized_front_end
from asrser.runtime.model_files import IncompleteModelError, check_model_folder


class ModelLoadError(RuntimeError):
    """A model, processor or BERT name/path does not load."""


class VocabularyError(ValueError):
    """Transcripts use characters the model's CTC vocabulary cannot represent."""


def check_model_location(name_or_path: str, what: str = "model") -> None:
    """Fail fast on a local-looking path that does not exist (hub ids look like "org/name");
    transformers would otherwise take it for a hub id and try the network."""
    name = str(name_or_path)
    if is_local_model_path(name) and not Path(name).expanduser().exists():
        raise ModelLoadError(
            f"{what} '{name}' does not exist; expected a saved model folder or a hub model id"
        )


def check_model_files(folder: str | Path, what: str = "model") -> None:
    """A ModelLoadError on one line unless `folder` holds a complete model (asrser.runtime.model_files):
    a half-copied or truncated folder is never loaded."""
    try:
        check_model_folder(folder, what=what)
    except IncompleteModelError as error:
        raise ModelLoadError(str(error)) from None


def load_processor(name_or_path: str):
    """AutoProcessor.from_pretrained(name_or_path), checked to hold a feature extractor and a
    CTC tokenizer; a ModelLoadError naming the path otherwise."""
    from transformers import AutoProcessor

    check_model_location(name_or_path, "processor")
    try:
        processor = AutoProcessor.from_pretrained(str(name_or_path))
    except Exception as error:  # transformers raises OSError, ValueError, KeyError...
        raise ModelLoadError(
            f"cannot load a processor (feature extractor + CTC tokenizer) from '{name_or_path}': "
            f"{type(error).__name__}: {error}"
        ) from error
    for part in ("feature_extractor", "tokenizer"):
        if getattr(processor, part, None) is None:
            raise ModelLoadError(
                f"'{name_or_path}' loads as {type(processor).__name__}, which has no {part}; "
                "expected a wav2vec2-family CTC processor (feature extractor + Wav2Vec2CTCTokenizer)"
            )
    return processor


def _tokenizer(processor_or_tokenizer):
    return getattr(processor_or_tokenizer, "tokenizer", processor_or_tokenizer)


def _spelling(tokenizer, transcript: str) -> str:
    """The normalised transcript as the tokenizer spells it (spaces as the word delimiter)."""
    delimiter = getattr(tokenizer, "word_delimiter_token", None) or "|"
    return normalize_transcript(transcript).replace(" ", delimiter)


def check_vocabulary(
    processor, transcripts: Sequence[str], utt_ids: Sequence[str] | None = None, source: str = ""
) -> None:
    """Raise VocabularyError listing each character of the normalised transcripts that the CTC
    vocabulary lacks, with (up to five) utterances using it. `source` names the file in the message."""
    tokenizer = _tokenizer(processor)
    vocab = tokenizer.get_vocab()
    if utt_ids is None:
        utt_ids = [f"#{index}" for index in range(len(transcripts))]
    missing: dict[str, list[str]] = {}
    for utt_id, transcript in zip(utt_ids, transcripts, strict=True):
        for char in sorted(set(_spelling(tokenizer, transcript))):
            if char not in vocab:
                missing.setdefault(char, []).append(str(utt_id))
    if missing:
        where = f" in {source}" if source else ""
        lines = [
            f"  {char!r}: {len(ids)} utterance(s), e.g. {', '.join(ids[:5])}"
            for char, ids in sorted(missing.items())
        ]
        raise VocabularyError(
            f"the model's CTC vocabulary ({len(vocab)} tokens: {''.join(sorted(vocab))}) cannot "
            f"represent these characters of the normalised transcripts{where}:\n" + "\n".join(lines)
        )


def encode_transcripts(processor, transcripts: Sequence[str]) -> Tensor:
    """CTC targets (B, U) long, padded with -100."""
    tokenizer = _tokenizer(processor)
    vocab = tokenizer.get_vocab()
    sequences = [[vocab[c] for c in _spelling(tokenizer, text)] for text in transcripts]
    labels = torch.full((len(sequences), max((len(s) for s in sequences), default=0)), -100)
    for row, ids in enumerate(sequences):
        labels[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return labels


def emotion_ids(emotions: Sequence[str | int]) -> Tensor:
    """Emotion labels (names in asrser.EMOTIONS or their indices) -> (B,) long."""
    ids = []
    for emotion in emotions:
        if isinstance(emotion, str):
            if emotion not in EMOTIONS:
                raise ValueError(f"emotion '{emotion}' is not one of {EMOTIONS}")
            ids.append(EMOTIONS.index(emotion))
        else:
            if not 0 <= int(emotion) < len(EMOTIONS):
                raise ValueError(f"emotion index {emotion} is outside 0..{len(EMOTIONS) - 1}")
            ids.append(int(emotion))
    return torch.tensor(ids, dtype=torch.long)


@dataclass
class Batch:
    """One padded batch. inputs: what the feature extractor returns (input_values or
    input_features, and attention_mask); input_lengths: valid positions of the model input per
    utterance (samples, or stacked log-mel frames); labels: CTC targets padded with -100;
    emotions: indices into asrser.EMOTIONS; transcripts: normalised references."""

    inputs: dict[str, Tensor]
    input_lengths: Tensor
    labels: Tensor | None
    emotions: Tensor | None
    utt_ids: list[str]
    transcripts: list[str]

    def __len__(self) -> int:
        return len(self.utt_ids)

    def to(self, device: torch.device | str) -> Batch:
        def move(tensor):
            return None if tensor is None else tensor.to(device, non_blocking=True)

        return replace(
            self,
            inputs={name: move(value) for name, value in self.inputs.items()},
            input_lengths=move(self.input_lengths),
            labels=move(self.labels),
            emotions=move(self.emotions),
        )


def collate(
    waveforms: Sequence[np.ndarray],
    transcripts: Sequence[str] | None,
    emotions: Sequence[str | int] | None,
    utt_ids: Sequence[str],
    processor,
) -> Batch:
    """Pad 16 kHz mono waveforms into a Batch (features, mask, CTC labels, emotion ids).

    transcripts / emotions may be None (no targets: inference only)."""
    if not len(waveforms) == len(utt_ids):
        raise ValueError(f"{len(waveforms)} waveforms but {len(utt_ids)} utterance ids")
    extractor = processor.feature_extractor
    with vectorized_front_end(extractor):
        features = extractor(
            [np.asarray(w, dtype=np.float32) for w in waveforms],
            sampling_rate=SAMPLE_RATE,
            padding=True,
            # A log-mel extractor that stacks `stride` frames drops a last incomplete group, and
            # pads only to a multiple of 2 by default: with stride 3 an utterance alone lost a
            # frame that it kept when padded in a batch. Padding to whole groups keeps it always.
            pad_to_multiple_of=getattr(extractor, "stride", None),
            return_attention_mask=True,
            return_tensors="pt",
        )
    # In torch's aligned memory: the encoder's first product must not see numpy's alignment.
    inputs = {name: aligned(value) for name, value in features.items()}
    inputs["attention_mask"] = inputs["attention_mask"].long()
    labels = None
    references = [""] * len(utt_ids)
    if transcripts is not None:
        check_vocabulary(processor, transcripts, utt_ids)
        references = [normalize_transcript(text) for text in transcripts]
        labels = encode_transcripts(processor, references)
    return Batch(
        inputs=inputs,
        input_lengths=inputs["attention_mask"].sum(-1),
        labels=labels,
        emotions=None if emotions is None else emotion_ids(emotions),
        utt_ids=[str(u) for u in utt_ids],
        transcripts=references,
    )
