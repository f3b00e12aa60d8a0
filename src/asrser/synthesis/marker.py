"""The file that marks a folder as a synthetic corpus, which the workflow may replace."""

from __future__ import annotations

from pathlib import Path

from asrser import SYNTHETIC_MARKER
from asrser.common.io import write_text


def write_marker(folder: Path, what: str) -> None:
    """Mark `folder` (a staging folder, renamed into place with its contents)."""
    write_text(
        Path(folder) / SYNTHETIC_MARKER,
        f"{what} written by asrser.synthesis for the embedded demo; the workflow regenerates this "
        "folder whenever its settings change, so keep no other data in it.\n",
    )
