"""Fresh (untrained) wav2vec2-family CTC encoders, saved as transformers folders.

`create_demo_encoder` writes the embedded default's small conformer encoder (Wav2Vec2BertForCTC,
log-mel input through SeamlessM4TFeatureExtractor); the pretraining rule trains it in place.
`create_tiny_wav2vec2` writes a tiny raw-waveform Wav2Vec2ForCTC (the paper model's input path) for
tests. Both are loaded back with AutoModelForCTC / AutoProcessor like any hub checkpoint, so the
rest of the code never knows which one it has.

The character vocabulary is the paper model's (wav2vec2-large-960h-lv60-self): upper-case letters,
the apostrophe and "|" as word delimiter, with <pad> as the CTC blank and <unk>.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from transformers import (
    SeamlessM4TFeatureExtractor,
    Wav2Vec2BertConfig,
    Wav2Vec2BertForCTC,
    Wav2Vec2BertProcessor,
    Wav2Vec2Config,
    Wav2Vec2CTCTokenizer,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2ForCTC,
    Wav2Vec2Processor,
)

from asrser import SAMPLE_RATE
from asrser.common.io import atomic_dir
from asrser.common.text import ALPHABET

BLANK_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"
WORD_DELIMITER = "|"


def character_vocabulary() -> dict[str, int]:
    """Token -> id: blank first (id 0, the CTC blank), then <unk>, the delimiter and the letters."""
    tokens = [BLANK_TOKEN, UNK_TOKEN, WORD_DELIMITER, *ALPHABET]
    return {token: index for index, token in enumerate(tokens)}


def create_character_tokenizer() -> Wav2Vec2CTCTokenizer:
    """A Wav2Vec2CTCTokenizer over `character_vocabulary()` (no <s>/</s>: CTC needs neither)."""
    with tempfile.TemporaryDirectory() as scratch:
        vocab_file = Path(scratch) / "vocab.json"
        vocab_file.write_text(json.dumps(character_vocabulary()), encoding="utf-8")
        return Wav2Vec2CTCTokenizer(
            str(vocab_file),
            unk_token=UNK_TOKEN,
            pad_token=BLANK_TOKEN,
            word_delimiter_token=WORD_DELIMITER,
            bos_token=None,
            eos_token=None,
            do_lower_case=False,
        )


def ctc_token_settings(tokenizer: Wav2Vec2CTCTokenizer) -> dict:
    return {
        "vocab_size": len(tokenizer),
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": None,
        "eos_token_id": None,
        # The training loss is computed by asrser (mean, zero_infinity); these keep the encoder's
        # own CTC loss consistent with it for anyone calling the CTC model directly.
        "ctc_loss_reduction": "mean",
        "ctc_zero_infinity": True,
    }


def save_pretrained_folder(out_dir: str | Path, model, processor) -> Path:
    """A model and its processor (or tokenizer) saved atomically as one transformers folder."""
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp)
        processor.save_pretrained(tmp)
    return out_dir


def create_demo_encoder(
    out_dir: str | Path,
    hidden_size: int = 144,
    num_layers: int = 3,
    num_heads: int = 4,
    intermediate_size: int = 288,
    conv_kernel_size: int = 15,
    frame_stack: int = 3,
    position_embeddings_type: str = "rotary",
    mask_time_prob: float = 0.05,
    dropout: float = 0.0,
    conv_dropout: float = 0.0,
    final_dropout: float = 0.0,
    seed: int = 0,
) -> Path:
    """Write a fresh small Wav2Vec2BertForCTC + processor to `out_dir`; return the folder.

    Input: 80 log-mel bins at 10 ms, stacked by `frame_stack` (3: 240 dims, 30 ms per encoder
    frame; a third fewer frames than transformers' default of 2 for the same WER per step, and
    still room for CTC at the corpus' fastest speech, ~30 labels and repeats per second).
    Rotary position embeddings by default: attention costs about a quarter less than with
    transformers' default relative_key embeddings, for the same held-out WER.
    No dropout by default: the small encoder underfits its pretraining corpus (training and
    held-out loss stay equal), dropout slowed its learning (held-out WER 0.48 without, 0.51 with
    transformers' 0.1 in the convolution and before the CTC head) and costs time on CPU.
    """
    import torch

    torch.manual_seed(seed)
    tokenizer = create_character_tokenizer()
    feature_extractor = SeamlessM4TFeatureExtractor(sampling_rate=SAMPLE_RATE, stride=frame_stack)
    config = Wav2Vec2BertConfig(
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=intermediate_size,
        feature_projection_input_dim=feature_extractor.num_mel_bins * feature_extractor.stride,
        conv_depthwise_kernel_size=conv_kernel_size,
        position_embeddings_type=position_embeddings_type,
        hidden_dropout=dropout,
        attention_dropout=dropout,
        activation_dropout=dropout,
        feat_proj_dropout=dropout,
        conformer_conv_dropout=conv_dropout,
        final_dropout=final_dropout,
        layerdrop=0.0,
        mask_time_prob=mask_time_prob,
        **ctc_token_settings(tokenizer),
    )
    model = Wav2Vec2BertForCTC(config)
    processor = Wav2Vec2BertProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer)
    return save_pretrained_folder(out_dir, model, processor)


# The tiny raw-waveform encoder's sizes (tests also shrink the paper-size stand-in to them).
TINY_WAV2VEC2_SIZE = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "conv_dim": (16, 16, 32),
    "conv_kernel": (10, 8, 8),
    "conv_stride": (5, 8, 8),
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 4,
}


def create_tiny_wav2vec2(out_dir: str | Path, seed: int = 0) -> Path:
    """Write a tiny raw-waveform Wav2Vec2ForCTC (lv60-style: layer-norm convs) for tests.

    Conv stack strides 5*8*8 = 320 samples per frame (20 ms), like the real model.
    """
    import torch

    torch.manual_seed(seed)
    tokenizer = create_character_tokenizer()
    config = Wav2Vec2Config(
        **TINY_WAV2VEC2_SIZE,
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        layerdrop=0.0,
        mask_time_prob=0.05,
        **ctc_token_settings(tokenizer),
    )
    model = Wav2Vec2ForCTC(config)
    processor = Wav2Vec2Processor(feature_extractor=lv60_feature_extractor(), tokenizer=tokenizer)
    return save_pretrained_folder(out_dir, model, processor)


def lv60_feature_extractor() -> Wav2Vec2FeatureExtractor:
    """The raw-waveform input of the lv60 models: each utterance normalised, attention masks
    passed (padding is masked)."""
    return Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=SAMPLE_RATE,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=True,
    )
