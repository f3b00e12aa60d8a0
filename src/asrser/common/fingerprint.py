"""What identifies a file or a saved model from one run to the next (cheaply: no weights read).

A resumed run must not continue from state that other inputs produced: asrser-predict's resume
points and a training job's checkpoint both record these and start over when they differ.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from asrser.common.model_names import resolve_pretrained
from asrser.runtime.hub import read_fetch_record


def file_stamp(path: str | os.PathLike) -> tuple[int, int]:
    """(size, modification time in ns): a file rewritten since counts as another file."""
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def model_fingerprint(model_dir: str | os.PathLike) -> dict:
    """A saved model: its folder, config.json's digest, its weights' size and time."""
    model_dir = Path(model_dir).resolve()
    weights = sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin"))
    return {
        "model_dir": str(model_dir),
        "config_sha256": hashlib.sha256((model_dir / "config.json").read_bytes()).hexdigest(),
        "weights": {path.name: list(file_stamp(path)) for path in weights},
    }


def model_identity(name_or_path: str | None) -> dict | str | None:
    """A model name as a run should remember it: the fingerprint of a local folder (one that is
    rewritten, as the demo encoder is when its pretraining reruns, is another model), with the
    hub id and resolved commit of a folder fetched from the hub; the name of a hub model loaded
    through transformers' own cache (its weights are the hub's)."""
    if name_or_path is None:
        return None
    folder = Path(resolve_pretrained(str(name_or_path))).expanduser()
    if (folder / "config.json").is_file():
        identity = model_fingerprint(folder)
        record = read_fetch_record(folder)
        if record is not None:
            identity["hub"] = {key: record.get(key) for key in ("hub_id", "commit")}
        return identity
    return str(name_or_path)
