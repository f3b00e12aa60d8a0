"""The rehearsal's inputs: the corpora (corpus.py) and a models folder filled by hand with the
paper's architectures at full size and random weights (asrser.models.paper_architecture), where
config/paper.yaml's hub ids are looked up: <models_dir>/facebook/wav2vec2-large-960h-lv60-self and
<models_dir>/bert-base-uncased (1.7 GB).

    python tests/rehearsal/prepare.py DIR   # writes DIR/corpora and DIR/models, then prints the
                                            # --config settings that point config/paper.yaml there
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import write_corpora  # noqa: E402

PAPER_CONFIG = HERE.parents[1] / "config" / "paper.yaml"
FOLD = "Ses01F"
ENCODER_ID = "facebook/wav2vec2-large-960h-lv60-self"
BERT_ID = "bert-base-uncased"


def write_models(models: Path) -> None:
    from transformers.utils import logging as transformers_logging

    from asrser.models.paper_architecture import create_paper_bert, create_paper_encoder

    transformers_logging.disable_progress_bar()
    create_paper_encoder(models / ENCODER_ID)
    create_paper_bert(models / BERT_ID)


def prepare(base: Path, fold: str = FOLD) -> dict:
    """Write the corpora and the models under `base`; return what corpus.write_corpora returns,
    with models_dir."""
    config = yaml.safe_load(PAPER_CONFIG.read_text())
    written = write_corpora(base / "corpora", config, fold)
    write_models(base / "models")
    return {**written, "models_dir": base / "models"}


def config_settings(prepared: dict) -> list[str]:
    """The --config values that point config/paper.yaml at the prepared inputs."""
    return [f"{key}={prepared[key]}" for key in ("iemocap_root", "musan_root", "models_dir")]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} DIR")
    print("\n".join(config_settings(prepare(Path(sys.argv[1])))))
