"""Hub models: the configured models, their local folders, and the plan-time check of them.

A hub id `org/name` in config key encoder.name_or_path or bert.name_or_path lives in
`<models_dir>/org/name`. The workflow's `fetch_model` jobs fill that folder
(asrser.runtime.hub_fetch, on the machine running Snakemake), and every training and evaluation
job loads from it with the hub offline (work_offline). A folder filled by hand (an offline
cluster), without fetch_model's record (FETCH_RECORD), is used as it is once it is complete.

huggingface_hub is imported only inside the functions that reach the hub: it reads
HF_HUB_OFFLINE when imported, and the jobs set it first (work_offline).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from asrser.common.config import ConfigError
from asrser.common.model_names import HUB_EXAMPLES, is_local_model_path, resolve_pretrained
from asrser.runtime.model_files import model_folder_problems

log = logging.getLogger(__name__)

FETCH_RECORD = "asrser_fetch.json"
DEFAULT_MODELS_DIR = "resources/models"
# Where asrser-predict looks for a joint model's frozen BERT when the folder recorded at training
# time is gone (a copied model): `$ASRSER_MODELS_DIR/<hub id>`, else resources/models/<hub id>.
MODELS_DIR_VARIABLE = "ASRSER_MODELS_DIR"
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
MODEL_ROLES = ("encoder", "bert")
# A hub id: "name" or "org/name" (letters, digits, '-', '_', '.').
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")


class HubError(RuntimeError):
    """A hub model cannot be fetched (no network, unknown repository or revision, no weights)."""


def hub_offline() -> bool:
    """Whether HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE asks that the hub not be contacted."""
    return any(
        os.environ.get(name, "").strip().upper() in ("1", "ON", "YES", "TRUE")
        for name in OFFLINE_VARIABLES
    )


def work_offline() -> None:
    """Keep this process off the hub (training and evaluation jobs load from local folders).
    Call before transformers or huggingface_hub is imported: they read the setting then."""
    for name in OFFLINE_VARIABLES:
        os.environ[name] = "1"


# ---------------------------------------------------------------------------- configured models
@dataclass(frozen=True)
class ConfiguredModel:
    """A model named in the config, and where the jobs load it from.

    key: its config key (encoder.name_or_path); name: its value; revision: the config's
    encoder.revision / bert.revision; hub_id: set when it is fetched from the hub; path: what the
    jobs load (the folder in models_dir for a hub model, else `name` as configured)."""

    key: str
    name: str
    revision: str
    path: str
    hub_id: str | None = None

    @property
    def folder(self) -> Path:
        """The local folder the model loads from ("package:" names resolved)."""
        return Path(resolve_pretrained(self.path)).expanduser()


def is_hub_id(name_or_path: str) -> bool:
    """A name that transformers would look up on the hub: not "package:", not a local path,
    not an existing folder (which transformers loads from there)."""
    name = str(name_or_path)
    return not (
        name.startswith("package:") or is_local_model_path(name) or Path(name).expanduser().is_dir()
    )


def configured_model(config: Mapping, role: str) -> ConfiguredModel:
    """The model of config section `role` ("encoder" or "bert")."""
    if role not in MODEL_ROLES:
        raise ValueError(f"role must be one of {MODEL_ROLES}, got '{role}'")
    section = config[role]
    name = str(section["name_or_path"])
    key = f"{role}.name_or_path"
    revision = str(section.get("revision", "main"))
    built = role == "encoder" and section.get("pretrain_demo", False)
    if built or not is_hub_id(name):
        return ConfiguredModel(key=key, name=name, revision=revision, path=name)
    if not HUB_ID.fullmatch(name):
        raise ConfigError(
            f"config key '{key}': '{name}' is neither a local model folder nor a hub id "
            f"(expected org/name or name, e.g. {HUB_EXAMPLES[key]})"
        )
    models_dir = str(config.get("models_dir", DEFAULT_MODELS_DIR))
    return ConfiguredModel(
        key=key, name=name, revision=revision, path=os.path.join(models_dir, name), hub_id=name
    )


def hub_models(config: Mapping) -> list[ConfiguredModel]:
    """The configured models that come from the hub (one each, in role order)."""
    models: dict[str, ConfiguredModel] = {}
    for role in MODEL_ROLES:
        model = configured_model(config, role)
        if model.hub_id is None:
            continue
        earlier = models.get(model.hub_id)
        if earlier is not None and earlier.revision != model.revision:
            raise ConfigError(
                f"config keys '{earlier.key}' and '{model.key}' name the same hub model "
                f"'{model.hub_id}' at revisions '{earlier.revision}' and '{model.revision}'; "
                "one folder holds one revision"
            )
        models.setdefault(model.hub_id, model)
    return list(models.values())


def local_model_folder(config: Mapping, role: str) -> Path:
    """The local folder that the jobs load the model of config section `role` from."""
    return configured_model(config, role).folder


def fill_instructions(model: ConfiguredModel, command: str = "snakemake fetch_models") -> str:
    """How to fill a hub model's folder: the workflow's fetch, or a download by hand."""
    return (
        f"run `{command}` on a machine with internet access, or copy the model there by hand "
        f"(`hf download {model.hub_id} --revision {model.revision} --local-dir {model.path}`, "
        "see docs/models-and-training.md)"
    )


def check_hub_models(config: Mapping, command: str = "snakemake fetch_models") -> list[str]:
    """Plan-time check of the hub models' folders, raising a ConfigError with one line for each
    folder (ConfigError.listing), naming the folder, the config key and `command` (what fills
    the folder):

    - a folder that is there must be complete (a half-copied one is never loaded; it is the
      user's to remove or complete, never deleted here);
    - with the hub offline, a missing folder, or one fetched at another revision than the
      config's (which the fetch would replace), cannot be filled.

    Returns warnings: online, a folder fetched at another revision is fetched again by the run
    that fetched it (Snakemake knows its parameter), not by a run in another working directory
    sharing models_dir, which the warning tells how to force."""
    offline = hub_offline()
    warnings, problems, missing = [], [], []
    for model in hub_models(config):
        folder = Path(model.path)
        where = f"config key '{model.key}': the models folder '{folder}' of '{model.hub_id}'"
        if folder.exists():
            incomplete = model_folder_problems(folder)
            if incomplete:
                problems.append(
                    f"{where} is incomplete ({'; '.join(incomplete)}), so it is never loaded: "
                    f"remove it and {fill_instructions(model, command)}"
                )
                continue
            record = read_fetch_record(folder)
            if record and record.get("revision") != model.revision:
                held = (
                    f"{where} holds revision '{record.get('revision')}' (commit "
                    f"{record.get('commit')}), the config asks for '{model.revision}' "
                    f"({model.key.split('.')[0]}.revision)"
                )
                if offline:
                    problems.append(
                        f"{held} and the hub is offline: set the revision back, or "
                        f"{fill_instructions(model, command)}"
                    )
                else:
                    warnings.append(
                        f"{held}: a run in the working directory that fetched it fetches it "
                        f"again; from another one, run `{command} --forcerun fetch_model`"
                    )
        elif offline:
            missing.append(model)
    if missing:
        problems.insert(0, _missing_offline(missing, command))
    if problems:
        raise ConfigError.listing(problems)
    return warnings


def _missing_offline(models: list[ConfiguredModel], command: str) -> str:
    """One line for the folders missing while the hub is offline: one command fills them all."""
    first, *others = models
    also = "; ".join(
        f"config key '{model.key}': '{model.path}' of '{model.hub_id}'" for model in others
    )
    if not others:
        return (
            f"config key '{first.key}': the models folder '{first.path}' of '{first.hub_id}' is "
            "missing and the hub is offline (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE): "
            f"{fill_instructions(first, command)}"
        )
    downloads = "; ".join(
        f"hf download {model.hub_id} --revision {model.revision} --local-dir {model.path}"
        for model in models
    )
    return (
        f"config key '{first.key}': the models folder '{first.path}' of '{first.hub_id}' (like "
        f"that of {also}) is missing and the hub is offline (HF_HUB_OFFLINE or "
        "TRANSFORMERS_OFFLINE): run "
        f"`{command}` on a machine with internet access, or copy the models there by hand "
        f"(`{downloads}`, see docs/models-and-training.md)"
    )


def read_fetch_record(folder: str | os.PathLike) -> dict | None:
    """The record fetch_model left in `folder`, or None (a folder filled by hand)."""
    try:
        record = json.loads((Path(folder) / FETCH_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None
