"""Is a model folder complete? Checked before any folder is loaded, from the files alone.

A download or copy that was cut off leaves files that look like a model: transformers would
fail on them with an unrelated message, or, for a sharded model, load part of it. Each check
reads a few bytes per file, never the weights:

- config.json is there and is a JSON object;
- weights are there: `*.safetensors`, or `*.bin` (PyTorch's format) where a repository has none;
- each safetensors file is exactly as long as its header says (8-byte length, JSON header, then
  the tensors up to the largest end offset the header names);
- each PyTorch zip file still ends with its central directory (a truncated one does not);
- every shard that a `*.index.json` names is there (and complete).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

WEIGHT_SUFFIXES = (".safetensors", ".bin")
INDEX_SUFFIX = ".index.json"
# A safetensors header above this is no header: the first 8 bytes were not a length.
MAX_HEADER_BYTES = 100_000_000
# A zip file ends with its end-of-central-directory record (22 bytes plus a comment of at most
# 64 KiB); torch.save has written zip files since PyTorch 1.6.
ZIP_MAGIC = b"PK\x03\x04"
ZIP_END = b"PK\x05\x06"
ZIP_TAIL_BYTES = 22 + 65_535


class IncompleteModelError(RuntimeError):
    """A model folder is missing files or holds truncated ones: it is never loaded."""


def weight_files(folder: str | os.PathLike) -> list[Path]:
    """The weights at the top of `folder` (sorted), safetensors before PyTorch files."""
    folder = Path(folder)
    return [
        path
        for suffix in WEIGHT_SUFFIXES
        for path in sorted(folder.glob(f"*{suffix}"))
        if path.is_file() and not path.name.startswith(".")
    ]


def safetensors_problem(path: Path) -> str | None:
    """Why a safetensors file is not whole, or None when its length matches its header."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return f"{path.name} is truncated ({size} bytes, no header)"
        (header_bytes,) = struct.unpack("<Q", head)
        if header_bytes > MAX_HEADER_BYTES or 8 + header_bytes > size:
            return f"{path.name} is truncated ({size} bytes, header of {header_bytes} bytes)"
        try:
            header = json.loads(handle.read(header_bytes))
        except ValueError:
            return f"{path.name} has an unreadable header"
    if not isinstance(header, dict):
        return f"{path.name} has an unreadable header"
    ends = [
        entry["data_offsets"][1]
        for name, entry in header.items()
        if name != "__metadata__" and isinstance(entry, dict) and "data_offsets" in entry
    ]
    expected = 8 + header_bytes + max(ends, default=0)
    if size != expected:
        return f"{path.name} is {size} bytes, its header says {expected}"
    return None


def pytorch_file_problem(path: Path) -> str | None:
    """Why a PyTorch weights file is not whole (zip files only; older pickles pass unchecked)."""
    size = path.stat().st_size
    if size == 0:
        return f"{path.name} is empty"
    with open(path, "rb") as handle:
        if handle.read(4) != ZIP_MAGIC:
            return None
        handle.seek(max(0, size - ZIP_TAIL_BYTES))
        if ZIP_END not in handle.read():
            return f"{path.name} is truncated ({size} bytes, no zip directory at its end)"
    return None


def _index_problems(index: Path) -> list[str]:
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        shards = sorted(set(weight_map.values()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return [f"{index.name} is not a shard index (no weight_map)"]
    return [
        f"shard {shard} named in {index.name} is missing"
        for shard in shards
        if not (index.parent / shard).is_file()
    ]


def model_folder_problems(folder: str | os.PathLike) -> list[str]:
    """What keeps `folder` from being a complete saved model (empty when it is one)."""
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder} is not a folder"]
    problems = []
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if not isinstance(config, dict):
            problems.append("config.json is not a JSON object")
    except FileNotFoundError:
        problems.append("no config.json")
    except (OSError, ValueError):
        problems.append("config.json is unreadable or truncated")
    indexes = sorted(folder.glob(f"*{INDEX_SUFFIX}"))
    weights = weight_files(folder)
    if not weights and not indexes:
        problems.append("no weights (*.safetensors or *.bin)")
    for index in indexes:
        if index.name.endswith(WEIGHT_SUFFIXES[0] + INDEX_SUFFIX) or index.name.endswith(
            WEIGHT_SUFFIXES[1] + INDEX_SUFFIX
        ):
            problems += _index_problems(index)
    for path in weights:
        problem = (
            safetensors_problem(path)
            if path.suffix == ".safetensors"
            else pytorch_file_problem(path)
        )
        if problem:
            problems.append(problem)
    return problems


def check_model_folder(folder: str | os.PathLike, what: str = "model", refill: str = "") -> None:
    """Raise IncompleteModelError, on one line naming the folder, what is wrong and `refill`
    (how to fill it again), unless `folder` holds a complete model."""
    problems = model_folder_problems(folder)
    if problems:
        hint = f"; {refill}" if refill else ""
        raise IncompleteModelError(
            f"{what} folder '{folder}' is incomplete ({'; '.join(problems)}), so it is not "
            f"loaded{hint}"
        )
