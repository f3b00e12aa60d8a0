"""Hub models fetched once into a models folder; the local folder of each configured model.

A hub id `org/name` in config key encoder.name_or_path or bert.name_or_path lives in
`<models_dir>/org/name`. The workflow's `fetch_model` jobs fill that folder with `fetch_model`
(on the machine running Snakemake), and every training and evaluation job loads from it with the
hub offline. Only what loading needs is fetched: the JSON and text files of the config, processor
and tokenizer, and the weights in one format (safetensors; PyTorch's `.bin` only where a repository
has no safetensors), not the TensorFlow, Flax, ONNX or Core ML copies a repository may also hold.

The download goes to a hidden temporary sibling, is checked against the hub's file sizes and
digests and for completeness (asrser.runtime.model_files), gets a record of what was fetched
(FETCH_RECORD: hub id, requested revision, resolved commit, files, time, huggingface_hub version)
and is then renamed into place: a fetch cut off at any point leaves no folder that loads. A folder
filled by hand (an offline cluster), without that record, is used as it is once it is complete.

huggingface_hub is imported only inside the functions that reach the hub: it reads
HF_HUB_OFFLINE when imported, and the jobs set it first (work_offline).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from asrser.common.config import ConfigError
from asrser.common.io import atomic_dir, write_json
from asrser.common.model_names import HUB_EXAMPLES, is_local_model_path, resolve_pretrained
from asrser.runtime.model_files import INDEX_SUFFIX, check_model_folder, model_folder_problems

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
# Files loading reads besides the weights: config, processor and tokenizer.
SETTINGS_SUFFIXES = (".json", ".txt", ".model")
# The weight files transformers loads: a single file or shards with their index.
SAFETENSORS = re.compile(r"model(-\d+-of-\d+)?\.safetensors")
PYTORCH = re.compile(r"pytorch_model(-\d+-of-\d+)?\.bin")


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


# --------------------------------------------------------------------------------- fetching
def read_fetch_record(folder: str | os.PathLike) -> dict | None:
    """The record fetch_model left in `folder`, or None (a folder filled by hand)."""
    try:
        record = json.loads((Path(folder) / FETCH_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def select_files(repo_files: list[str]) -> list[str]:
    """The files of a repository that loading needs: top-level config, processor and tokenizer
    files, and the weights in one format (safetensors, else PyTorch). Shard indexes of the
    format not chosen are left out with it; sub-folders (ONNX, Core ML exports) too."""
    top = [name for name in repo_files if "/" not in name]
    safetensors = [name for name in top if SAFETENSORS.fullmatch(name)]
    weights = safetensors or [name for name in top if PYTORCH.fullmatch(name)]
    index = "model.safetensors" if safetensors else "pytorch_model.bin"
    settings = [
        name
        for name in top
        if name.endswith(SETTINGS_SUFFIXES)
        and not name.endswith(INDEX_SUFFIX)
        and not name.startswith(".")
    ]
    extra = [index + INDEX_SUFFIX] if index + INDEX_SUFFIX in top else []
    return sorted(set(settings + weights + extra))


def _hub_files(hub_id: str, revision: str) -> tuple[str, dict[str, dict]]:
    """(resolved commit, {file: {size, sha256}}) of a repository at a revision."""
    from huggingface_hub import HfApi

    info = HfApi().model_info(hub_id, revision=revision, files_metadata=True)
    files = {}
    for sibling in info.siblings or []:
        lfs = sibling.lfs
        files[sibling.rfilename] = {
            "size": lfs.size if lfs is not None else sibling.size,
            "sha256": lfs.sha256 if lfs is not None else None,
        }
    return info.sha, files


def _hub_error(hub_id: str, folder: Path, key: str, revision: str, error: Exception) -> HubError:
    """One line: why the hub did not answer, and how to fill the folder instead."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    model = ConfiguredModel(
        key=key, name=hub_id, revision=revision, path=str(folder), hub_id=hub_id
    )
    named = f"config key '{key}': " if key else ""
    detail = " ".join(str(error).split())[:300]
    if isinstance(error, RevisionNotFoundError):
        return HubError(
            f"{named}'{hub_id}' has no revision '{revision}' on the hub ({detail}); expected a "
            "branch, tag or commit of that repository"
        )
    if isinstance(error, RepositoryNotFoundError):
        return HubError(
            f"{named}no hub repository '{hub_id}' (or it is private or gated and no token was "
            f"given: `hf auth login`) ({detail})"
        )
    return HubError(
        f"{named}cannot reach the Hugging Face hub to fetch '{hub_id}' into '{folder}' "
        f"({type(error).__name__}: {detail}): {fill_instructions(model)}"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove_leftovers(folder: Path) -> None:
    """Temporary siblings of `folder` left by a fetch that was killed (never loaded: their
    names are hidden ones no config names), so that their disk space comes back."""
    for leftover in folder.parent.glob(f".{folder.name}.*.tmp"):
        if leftover.is_dir():
            log.info("removing %s, left by an interrupted fetch", leftover)
            shutil.rmtree(leftover, ignore_errors=True)


def _verify(tmp: Path, wanted: list[str], expected: dict[str, dict], hub_id: str) -> None:
    for name in wanted:
        path = tmp / name
        if not path.is_file():
            raise HubError(f"the fetch of '{hub_id}' did not deliver {name}")
        size, sha256 = expected[name]["size"], expected[name]["sha256"]
        if size is not None and path.stat().st_size != size:
            raise HubError(
                f"the fetch of '{hub_id}' delivered {name} with {path.stat().st_size} bytes, "
                f"the hub lists {size}"
            )
        if sha256 is not None and _sha256(path) != sha256:
            raise HubError(f"the fetch of '{hub_id}' delivered {name} with another digest")
    check_model_folder(tmp, what=f"the fetch of '{hub_id}': model")


def probe_hub(model: ConfiguredModel) -> tuple[str, int]:
    """Whether the hub answers for a hub model: (the commit its revision resolves to, the bytes
    fetch_model would download). A one-line HubError when it does not (see fetch_model)."""
    try:
        commit, files = _hub_files(model.hub_id, model.revision)
    except Exception as error:
        raise _hub_error(
            model.hub_id, Path(model.path), model.key, model.revision, error
        ) from error
    wanted = select_files(list(files))
    return commit, sum(files[name]["size"] or 0 for name in wanted)


def fetch_model(
    hub_id: str, folder: str | os.PathLike, revision: str = "main", key: str = ""
) -> dict:
    """Fetch `hub_id` at `revision` into `folder` (see the module doc); return its record.

    A folder already holding that commit, complete, is left as it is. Errors are HubError (the
    hub cannot be reached or has no such model) or IncompleteModelError, each on one line."""
    from huggingface_hub import __version__ as hub_version

    folder = Path(folder)
    if hub_offline():
        model = ConfiguredModel(key, hub_id, revision, str(folder), hub_id)
        raise HubError(
            f"cannot fetch '{hub_id}' into '{folder}': the hub is offline here (HF_HUB_OFFLINE "
            f"or TRANSFORMERS_OFFLINE); {fill_instructions(model)}"
        )
    try:
        commit, files = _hub_files(hub_id, revision)
    except Exception as error:  # httpx, huggingface_hub and OS errors alike: one line
        raise _hub_error(hub_id, folder, key, revision, error) from error
    record = read_fetch_record(folder)
    if record and record.get("commit") == commit and not model_folder_problems(folder):
        log.info("%s already holds %s at commit %s", folder, hub_id, commit)
        return record
    wanted = select_files(list(files))
    if not any(SAFETENSORS.fullmatch(name) or PYTORCH.fullmatch(name) for name in wanted):
        raise HubError(
            f"'{hub_id}' at revision '{revision}' has no PyTorch weights (model.safetensors or "
            f"pytorch_model.bin) at its top level; files: {', '.join(sorted(files)[:20])}"
        )
    _remove_leftovers(folder)
    log.info(
        "fetching %s (revision %s = commit %s) into %s: %s",
        hub_id,
        revision,
        commit,
        folder,
        ", ".join(wanted),
    )
    started = time.time()
    with atomic_dir(folder) as tmp:
        try:
            from huggingface_hub import snapshot_download

            snapshot_download(hub_id, revision=commit, local_dir=tmp, allow_patterns=wanted)
        except Exception as error:
            raise _hub_error(hub_id, folder, key, revision, error) from error
        # The download's own bookkeeping (.cache/huggingface) is no part of the model.
        shutil.rmtree(tmp / ".cache", ignore_errors=True)
        _verify(tmp, wanted, files, hub_id)
        record = {
            "hub_id": hub_id,
            "revision": revision,
            "commit": commit,
            "files": {name: files[name] for name in wanted},
            "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(time.time() - started, 1),
            "huggingface_hub": hub_version,
        }
        write_json(tmp / FETCH_RECORD, record)
    log.info("fetched %s into %s in %.0f s", hub_id, folder, time.time() - started)
    return record
