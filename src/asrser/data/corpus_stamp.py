"""A cheap stamp of the files corpus ingestion reads, so that the workflow sees corpus edits.

Snakemake judges a folder given as input by the folder's own modification time, which an edit
deep inside it (a corrected label file, a replaced wav) leaves alone. The ingestion rules of a
real corpus therefore carry this stamp as a parameter: a digest of the path (relative to the
corpus root), size and modification time of every file ingestion reads. A file added, removed
or changed there changes the stamp, and Snakemake reruns ingestion and everything after it; an
unchanged corpus keeps its stamp and reruns nothing. Contents are not read, so the stamp costs
one directory listing per folder and one stat per file (benchmarks/bench_corpus_stamp.py).

- Only the files ingestion reads count (asrser.data.iemocap_files.input_files, the wavs that
  asrser.data.musan.list_musan lists): hidden files (the .DS_Store a file browser writes, macOS
  `._` forks) and folders ingestion never opens (the release's video and motion capture)
  change nothing.
- Links are followed: a file replaced behind a link changes the stamp.
- rsync -a and cp -p keep modification times, so a corpus copied or synced with them keeps its
  stamp; a copy that does not (plain cp) is taken for an edit of every file. A file rewritten
  with the same size and its old modification time put back (touch -r) goes unseen.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

from asrser.data.iemocap_files import input_files as iemocap_input_files
from asrser.data.musan import list_musan


def files_stamp(root: str | os.PathLike, files: Iterable[str | os.PathLike]) -> str:
    """'<n> files, sha256 <digest>' over each file's path relative to `root`, size and
    modification time (nanoseconds). A file gone between listing and stat counts as such."""
    root = os.fspath(root)
    entries = []
    for path in files:
        relative = os.path.relpath(path, root)
        try:
            stat = os.stat(path)
            entries.append(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}")
        except OSError:  # removed meanwhile, or a broken link
            entries.append(f"{relative}\0gone")
    digest = hashlib.sha256()
    for entry in sorted(entries):
        digest.update(entry.encode("utf-8", "surrogateescape") + b"\n")
    return f"{len(entries)} files, sha256 {digest.hexdigest()[:32]}"


def iemocap_stamp(root: str | os.PathLike) -> str:
    """The stamp of the label, transcription and wav files IEMOCAP ingestion reads."""
    return files_stamp(root, iemocap_input_files(root))


def musan_stamp(root: str | os.PathLike) -> str:
    """The stamp of the wav files MUSAN ingestion reads."""
    files, _ = list_musan(root)
    return files_stamp(root, (item.path for item in files))
