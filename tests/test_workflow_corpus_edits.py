"""A real corpus (synthetic.enabled false) edited after the data stage ran: ingestion and
everything after it are planned again; an unchanged corpus, or one changed only where ingestion
never looks, plans nothing. The corpus itself is never written to."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest
from fixtures import make_iemocap_tree, make_musan_tree
from workflow_helpers import TEST_CONFIG, planned_jobs, snakemake

pytestmark = pytest.mark.slow
DOWNSTREAM = {"mix_corpus": 8, "make_fold": 10, "data": 1}
LABEL_FILE = "Session2/dialog/EmoEvaluation/Ses02F_impro01.txt"
WAV = "Session3/sentences/wav/Ses03M_script01_1/Ses03M_script01_1_F000.wav"
MUSAN_WAV = "noise/free-sound/noise-free-sound-0000.wav"


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A working directory whose data stage ran on fixture corpora; its dry-run options."""
    corpora = tmp_path_factory.mktemp("corpora")
    iemocap = make_iemocap_tree(corpora / "IEMOCAP", per_emotion=1, seconds=0.2, bad_cases=False)
    musan = make_musan_tree(corpora / "musan", files_per_subset=1, seconds=0.2, bad_cases=False)
    options = (
        "--configfile",
        str(TEST_CONFIG),
        "--config",
        "synthetic={enabled: false}",
        f"iemocap_root={iemocap.root}",
        f"musan_root={musan.root}",
    )
    before = _listing(corpora)
    workdir = tmp_path_factory.mktemp("work")
    snakemake(workdir, *options, "--cores", "2", targets=("data",))
    assert _listing(corpora) == before  # nothing of the corpus was written to
    return workdir, options, iemocap.root, musan.root


def _plan(finished) -> Counter:
    workdir, options, _, _ = finished
    return planned_jobs(workdir, *options, targets=("data",))


def test_an_unchanged_corpus_reruns_nothing(finished):
    assert _plan(finished) == {}


def test_what_ingestion_never_reads_reruns_nothing(finished):
    """A file browser's .DS_Store and ._ forks, the release's other folders."""
    _, _, iemocap, musan = finished
    added = [
        iemocap / "Session1" / "sentences" / "wav" / ".DS_Store",
        iemocap / "Session1" / "sentences" / "wav" / "Ses01F_impro01" / "._Ses01F_impro01_F000.wav",
        iemocap / "Session4" / "dialog" / "EmoEvaluation" / "Categorical" / "Ses04F_e9_cat.txt",
        iemocap / "Session4" / "sentences" / "MOCAP_head" / "Ses04F_impro01_F000.txt",
        musan / "speech" / "librivox" / "ANNOTATIONS.old",
    ]
    for path in added:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"not read by ingestion")
    try:
        assert _plan(finished) == {}
    finally:
        for path in added:
            path.unlink()


def test_an_edited_label_file_reruns_ingestion_and_everything_after_it(finished):
    _, _, iemocap, _ = finished
    label_file = iemocap / LABEL_FILE
    original, stat = label_file.read_bytes(), label_file.stat()
    label_file.write_bytes(original.replace(b"\tang\t", b"\tsad\t", 1))  # the same size
    os.utime(label_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    try:
        assert _plan(finished) == {"ingest_iemocap": 1, **DOWNSTREAM}
    finally:
        label_file.write_bytes(original)
        os.utime(label_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _plan(finished) == {}  # the file as it was: nothing to redo


@pytest.mark.parametrize("edit", ["added", "removed"])
def test_a_wav_added_or_removed_reruns_ingestion(finished, tmp_path, edit):
    _, _, iemocap, _ = finished
    wav = iemocap / WAV
    if edit == "added":
        new = wav.with_name("Ses03M_script01_1_F077.wav")
        shutil.copy2(wav, new)
    else:
        wav.rename(tmp_path / wav.name)  # a rename keeps its modification time
    try:
        assert _plan(finished) == {"ingest_iemocap": 1, **DOWNSTREAM}
    finally:
        if edit == "added":
            new.unlink()
        else:
            (tmp_path / wav.name).rename(wav)
    assert _plan(finished) == {}


def test_a_replaced_musan_wav_reruns_musan_ingestion_and_everything_after_it(finished, tmp_path):
    _, _, _, musan = finished
    wav = musan / MUSAN_WAV
    wav.rename(tmp_path / "original.wav")
    shutil.copy(musan / "noise" / "sound-bible" / "noise-sound-bible-0000.wav", wav)
    try:
        assert _plan(finished) == {"ingest_musan": 1, **DOWNSTREAM}
    finally:
        (tmp_path / "original.wav").replace(wav)
    assert _plan(finished) == {}
