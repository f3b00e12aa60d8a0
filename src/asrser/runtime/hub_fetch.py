"""Fetching a hub model once into its folder (the workflow's `fetch_model` jobs).

Only what loading needs is fetched: the JSON and text files of the config, processor and
tokenizer, and the weights in one format (safetensors; PyTorch's `.bin` only where a repository
has no safetensors), not the TensorFlow, Flax, ONNX or Core ML copies a repository may also hold.

The download goes to a hidden temporary sibling, is checked against the hub's file sizes and
digests and for completeness (asrser.runtime.model_files), gets a record of what was fetched
(FETCH_RECORD: hub id, requested revision, resolved commit, files, time, huggingface_hub version)
and is then renamed into place: a fetch cut off at any point leaves no folder that loads.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import time
from pathlib import Path

from asrser.common.io import atomic_dir, write_json
from asrser.runtime.hub import (
    FETCH_RECORD,
    ConfiguredModel,
    HubError,
    fill_instructions,
    hub_offline,
    read_fetch_record,
)
from asrser.runtime.model_files import INDEX_SUFFIX, check_model_folder, model_folder_problems

log = logging.getLogger(__name__)

# Files loading reads besides the weights: config, processor and tokenizer.
SETTINGS_SUFFIXES = (".json", ".txt", ".model")
# The weight files transformers loads: a single file or shards with their index.
SAFETENSORS = re.compile(r"model(-\d+-of-\d+)?\.safetensors")
PYTORCH = re.compile(r"pytorch_model(-\d+-of-\d+)?\.bin")


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
