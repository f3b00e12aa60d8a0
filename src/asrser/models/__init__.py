"""Models: the ASR baseline, the SER baseline and the joint ASR-SER model (paper, section 3).

Importing this package registers AsrSerConfig/AsrSerModel with transformers' Auto classes.
"""

from asrser.models.configuration import AsrSerConfig
from asrser.models.ctc import CTCVocabulary, greedy_decode
from asrser.models.model_io import build_model, load_model, save_model
from asrser.models.pooling import encoder_frame_mask, masked_mean
from asrser.models.processing import (
    Batch,
    ModelLoadError,
    VocabularyError,
    check_vocabulary,
    collate,
    load_processor,
)
from asrser.models.speech_model import AsrSerModel, AsrSerOutput

__all__ = [
    "AsrSerConfig",
    "AsrSerModel",
    "AsrSerOutput",
    "Batch",
    "CTCVocabulary",
    "ModelLoadError",
    "VocabularyError",
    "build_model",
    "check_vocabulary",
    "collate",
    "encoder_frame_mask",
    "greedy_decode",
    "load_model",
    "load_processor",
    "masked_mean",
    "save_model",
]
