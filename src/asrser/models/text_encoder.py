"""BERT sentence embeddings of ASR hypotheses for the joint model.

Embedding = mean of BERT's last hidden states over the real tokens ([CLS] and [SEP] included,
padding excluded). Mean pooling rather than [CLS]: the demo's MiniLM (all-MiniLM-L6-v2) is trained
for mean pooling, and for a plain bert-base-uncased the mean is the stronger sentence feature.
An empty hypothesis tokenises to [CLS] [SEP] and so still has an embedding. Text is lower-cased
first: the ASR vocabulary is upper case and the BERTs used are uncased.

Frozen by default (eval mode, no gradients, computed under no_grad); `finetune=True` trains it.

A frozen BERT is not saved with the joint model: its config records where the BERT came from
(bert_origin) and bert_source finds it again when the model is loaded, offline first:

1. the folder it was loaded from in training (bert_folder: the workflow's models folder, the
   package's folder, or a local folder), if it is complete and holds the same commit;
2. for a hub model, `$ASRSER_MODELS_DIR/<hub id>` or else `resources/models/<hub id>` (a model
   copied to another machine or a moved project);
3. for a hub model, the hub id at the recorded commit, through transformers' cache or the hub
   (unless HF_HUB_OFFLINE is set).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from asrser.common.model_names import is_local_model_path, resolve_pretrained
from asrser.models.processing import ModelLoadError, check_model_files, check_model_location
from asrser.runtime.hub import DEFAULT_MODELS_DIR, HUB_ID, MODELS_DIR_VARIABLE, read_fetch_record
from asrser.runtime.model_files import model_folder_problems

log = logging.getLogger(__name__)


def _load_pretrained(
    auto_class_name: str, name_or_path: str, what: str, revision: str | None = None
):
    """`transformers.<auto_class_name>.from_pretrained`, with an error naming the path; a
    local model folder is checked to be complete first."""
    import transformers

    path = resolve_pretrained(name_or_path)
    check_model_location(path, what)
    if auto_class_name == "AutoModel" and Path(path).expanduser().is_dir():
        check_model_files(Path(path).expanduser(), what=what)
    options = {"revision": revision} if revision else {}
    try:
        return getattr(transformers, auto_class_name).from_pretrained(path, **options)
    except Exception as error:
        message = " ".join(str(error).split())
        raise ModelLoadError(
            f"cannot load the {what} '{name_or_path}' (from '{path}') with {auto_class_name}: "
            f"{type(error).__name__}: {message}"
        ) from error


def load_bert_tokenizer(name_or_path: str, revision: str | None = None):
    return _load_pretrained("AutoTokenizer", name_or_path, "BERT tokenizer", revision)


def load_bert_model(name_or_path: str, revision: str | None = None):
    return _load_pretrained("AutoModel", name_or_path, "BERT model", revision)


def _is_hub_name(name: str) -> bool:
    return (
        not name.startswith("package:")
        and not is_local_model_path(name)
        and bool(HUB_ID.fullmatch(name))
    )


def bert_origin(name_or_path: str, hub_id: str | None = None) -> dict:
    """What a joint model's config records of the BERT loaded from `name_or_path`:
    bert_name_or_path (the hub id of a fetched folder, or `hub_id` of one filled by hand, else
    the name or absolute folder), bert_revision (a fetched folder's commit) and bert_folder (the
    absolute folder loaded, None for a package or a name loaded through transformers' cache)."""
    name = str(name_or_path)
    folder = Path(name).expanduser()
    if name.startswith("package:") or not folder.is_dir():
        return {"bert_name_or_path": name, "bert_revision": None, "bert_folder": None}
    record = read_fetch_record(folder) or {}
    folder = folder.resolve()
    return {
        "bert_name_or_path": record.get("hub_id") or hub_id or str(folder),
        "bert_revision": record.get("commit"),
        "bert_folder": str(folder),
    }


def _candidate_folders(name: str, folder: str | None) -> list[Path]:
    candidates = [Path(folder)] if folder else []
    if _is_hub_name(name):
        models_dir = os.environ.get(MODELS_DIR_VARIABLE) or DEFAULT_MODELS_DIR
        candidates.append(Path(models_dir).expanduser() / name)
    elif not name.startswith("package:"):
        candidates.append(Path(name).expanduser())
    unique = []
    for candidate in candidates:
        if candidate.absolute() not in [known.absolute() for known in unique]:
            unique.append(candidate)
    return unique


def _local_bert(
    name: str, revision: str | None, folder: str | None
) -> tuple[Path | None, list[str]]:
    """The first usable local folder of a recorded BERT, and why the others were passed over."""
    passed_over = []
    for candidate in _candidate_folders(name, folder):
        if not candidate.is_dir():
            passed_over.append(f"{candidate} (missing)")
            continue
        problems = model_folder_problems(candidate)
        if problems:
            passed_over.append(f"{candidate} (incomplete: {'; '.join(problems)})")
            continue
        commit = (read_fetch_record(candidate) or {}).get("commit")
        if revision and commit and commit != revision:
            passed_over.append(f"{candidate} (holds commit {commit})")
            continue
        return candidate, passed_over
    return None, passed_over


def bert_source(
    name: str, revision: str | None = None, folder: str | None = None
) -> tuple[str, str | None]:
    """(what to load, revision) for a BERT a model's config records (bert_name_or_path,
    bert_revision, bert_folder); see the module doc for the order. A folder that is incomplete,
    or holds another commit than `revision`, is passed over, never loaded."""
    if name.startswith("package:"):
        return name, None
    found, passed_over = _local_bert(name, revision, folder)
    if found is not None:
        if passed_over:
            log.warning("BERT '%s' loads from %s, not from %s", name, found, passed_over)
        return str(found), None
    if _is_hub_name(name):
        return name, revision
    raise ModelLoadError(
        f"the BERT '{name}' this model was trained with is in none of its folders: "
        f"{', '.join(passed_over)}; expected a saved BERT model folder there"
    )


def _fill_hint(name: str, revision: str | None) -> str:
    models_dir = os.environ.get(MODELS_DIR_VARIABLE) or DEFAULT_MODELS_DIR
    folder = Path(models_dir) / name
    return (
        f"fill {folder} (`hf download {name}{f' --revision {revision}' if revision else ''} "
        f"--local-dir {folder}`, see docs/models-and-training.md) or set {MODELS_DIR_VARIABLE} to the folder "
        f"holding {name}"
    )


def load_recorded_bert(name: str, revision: str | None = None, folder: str | None = None):
    """(BERT model, tokenizer) as a saved model's config records them (bert_source)."""
    source, source_revision = bert_source(name, revision, folder)
    try:
        return (
            load_bert_model(source, source_revision),
            load_bert_tokenizer(source, source_revision),
        )
    except ModelLoadError as error:
        if source != name:  # a folder that failed to load: its own message says why
            raise
        passed_over = _local_bert(name, revision, folder)[1]
        raise ModelLoadError(
            f"the joint model's BERT '{name}'{f' (commit {revision})' if revision else ''} is "
            f"in no local folder ({', '.join(passed_over)}) and not in transformers' cache: "
            f"{_fill_hint(name, revision)} ({error})"
        ) from error


def load_recorded_tokenizer(name: str, revision: str | None = None, folder: str | None = None):
    """The BERT tokenizer as a saved model's config records it (a fine-tuned BERT's weights are
    in the model; its tokenizer is not)."""
    source, source_revision = bert_source(name, revision, folder)
    return load_bert_tokenizer(source, source_revision)


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
