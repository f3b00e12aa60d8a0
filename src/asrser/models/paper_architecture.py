"""The paper's encoder and BERT architectures with random weights, built offline from configs.

Speed and memory do not depend on the weights, so a machine that cannot reach the Hugging Face hub
(a GPU box without internet, CI) still measures the paper's models with these stand-ins
(`benchmarks/bench_training.py --paper-architecture`). They are saved like the real checkpoints
and loaded through the same AutoModelForCTC / AutoProcessor / AutoModel / AutoTokenizer path.
The sizes are those of facebook/wav2vec2-large-960h-lv60-self (24 layers of width 1024 after the
seven layer-norm convolutions, the stable layer norm; asrser's character vocabulary, which is
lv60's without <s> and </s>) and bert-base-uncased (12 layers of width 768, a vocabulary of
30522). Not for training anything real.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from transformers import (
    BertConfig,
    BertModel,
    BertTokenizer,
    Wav2Vec2Config,
    Wav2Vec2ForCTC,
    Wav2Vec2Processor,
)

from asrser.common.text import ALPHABET
from asrser.models.demo_encoder import (
    create_character_tokenizer,
    ctc_token_settings,
    lv60_feature_extractor,
    save_pretrained_folder,
)

# What differs from Wav2Vec2Config's defaults (whose convolutions, positional convolution and
# dropouts are already the large models') in wav2vec2-large-960h-lv60-self.
LV60_LARGE = {
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
    "feat_extract_norm": "layer",
    "conv_bias": True,
    "do_stable_layer_norm": True,
}


def paper_encoder_config(**overrides) -> Wav2Vec2Config:
    """wav2vec2-large-960h-lv60-self's architecture over the character vocabulary; `overrides`
    change any config value (tests shrink it)."""
    settings = LV60_LARGE | ctc_token_settings(create_character_tokenizer()) | overrides
    return Wav2Vec2Config(**settings)


def create_paper_encoder(out_dir: str | Path, seed: int = 0, **overrides) -> Path:
    """Write an untrained Wav2Vec2ForCTC of the paper's size + its processor to `out_dir`."""
    import torch

    torch.manual_seed(seed)
    model = Wav2Vec2ForCTC(paper_encoder_config(**overrides))
    processor = Wav2Vec2Processor(
        feature_extractor=lv60_feature_extractor(), tokenizer=create_character_tokenizer()
    )
    return save_pretrained_folder(out_dir, model, processor)


def create_paper_bert(out_dir: str | Path, seed: int = 0, **overrides) -> Path:
    """Write an untrained BertModel of bert-base-uncased's size to `out_dir`, with a tokenizer
    that spells words out letter by letter (bert-base's own vocabulary file is a download; a
    word-piece per letter gives longer inputs, so BERT's cost is not underestimated)."""
    import torch

    torch.manual_seed(seed)
    model = BertModel(BertConfig(**overrides))
    letters = [letter.lower() for letter in ALPHABET]
    with tempfile.TemporaryDirectory() as scratch:
        vocab_file = Path(scratch) / "vocab.txt"
        special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        vocab_file.write_text("\n".join(special + letters + [f"##{c}" for c in letters]) + "\n")
        tokenizer = BertTokenizer(str(vocab_file), do_lower_case=True)
    return save_pretrained_folder(out_dir, model, tokenizer)
