"""What a trained model was made from, written beside it as provenance.json.

A model folder alone tells which architecture it holds, not which settings, data, pretrained
weights and software produced it. provenance.json records them: the resolved training settings
(keys the model type never reads are null), the manifests' sha256 digests, the encoder's and
BERT's identity (hub id and resolved commit for fetched models, package name and version for a
"package:" model, content digests for any other folder), the device and the package versions.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import time
from pathlib import Path

from asrser.common.model_names import resolve_pretrained
from asrser.runtime.hub import read_fetch_record
from asrser.runtime.model_files import weight_files

PROVENANCE_FILE = "provenance.json"
PROVENANCE_FORMAT = 1
# The distributions whose versions can change a trained model or its figures.
PACKAGES = (
    "asrser",
    "torch",
    "torchaudio",
    "transformers",
    "tokenizers",
    "safetensors",
    "huggingface_hub",
    "numpy",
    "scipy",
    "pandas",
    "soundfile",
    "jiwer",
    "scikit-learn",
    "snakemake",
)


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str | None]:
    """Python's version and each of PACKAGES' (None when one is not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _distribution(module: str) -> tuple[str, str | None]:
    """(distribution name, version) of the installed package providing `module`."""
    names = importlib.metadata.packages_distributions().get(module, [module])
    try:
        return names[0], importlib.metadata.version(names[0])
    except importlib.metadata.PackageNotFoundError:
        return names[0], None


def model_provenance(name_or_path: str | None, hub_id: str | None = None) -> dict | None:
    """The identity of a pretrained model as a run should record it.

    "package:NAME": the package and its version. A folder fetched by asrser.runtime.hub: its hub id,
    requested revision and resolved commit. Any other folder (a local model, a hub model's folder
    filled by hand, whose `hub_id` the caller may give): the sha256 of config.json and of each
    weights file. A name that is no folder (a hub id loaded through transformers' cache): the
    name."""
    if name_or_path is None:
        return None
    name = str(name_or_path)
    if name.startswith("package:"):
        module = name.removeprefix("package:")
        distribution, version = _distribution(module)
        return {"kind": "package", "name": name, "distribution": distribution, "version": version}
    folder = Path(resolve_pretrained(name)).expanduser()
    if not folder.is_dir():
        return {"kind": "hub", "hub_id": name, "commit": None}
    record = read_fetch_record(folder)
    if record is not None:
        return {
            "kind": "hub",
            "hub_id": record.get("hub_id"),
            "revision": record.get("revision"),
            "commit": record.get("commit"),
            "folder": str(folder.resolve()),
        }
    identity = {"kind": "folder", "folder": str(folder.resolve())}
    if hub_id:
        identity["hub_id"] = hub_id
    identity["sha256"] = {
        path.name: file_sha256(path) for path in [folder / "config.json", *weight_files(folder)]
    }
    return identity


def device_description(device) -> dict:
    """The torch device a model was trained on, with the GPU's name and torch's CUDA build."""
    import torch

    description = {"device": str(device), "torch_cuda": torch.version.cuda}
    if getattr(device, "type", str(device)) == "cuda" and torch.cuda.is_available():
        description["gpu"] = torch.cuda.get_device_name(device)
    description["platform"] = platform.platform()
    return description


def manifest_digest(path: str | os.PathLike) -> dict:
    return {"path": str(path), "sha256": file_sha256(path)}


def training_provenance(
    *,
    model: str,
    settings: dict,
    unused_keys: tuple[str, ...],
    manifests: dict[str, str | os.PathLike],
    encoder: str,
    bert: str | None,
    bert_finetune: bool,
    bert_hub_id: str | None,
    max_utterance_seconds: float | None,
    device,
    threads: int,
    best_epoch: int,
    seconds: float,
) -> dict:
    """provenance.json of one trained model (see the module doc). `settings` is the
    TrainConfig's dict; `unused_keys` those of its keys the model type never reads (null here,
    as in config.json)."""
    return {
        "format": PROVENANCE_FORMAT,
        "model_type": model,
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {key: None if key in unused_keys else value for key, value in settings.items()},
        "max_utterance_seconds": max_utterance_seconds,
        "bert_settings": {"finetune": bert_finetune} if model == "joint" else None,
        "data": {name: manifest_digest(path) for name, path in manifests.items()},
        "encoder": model_provenance(encoder),
        "bert": model_provenance(bert, hub_id=bert_hub_id) if model == "joint" else None,
        "device": {**device_description(device), "threads": threads},
        "best_epoch": best_epoch,
        "training_seconds": round(seconds, 1),
        "packages": package_versions(),
    }
