"""The stamp of a corpus's files: it changes with every edit ingestion would see, and with
nothing else (hidden files, folders ingestion never opens, a copy that keeps modification times)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from fixtures import make_iemocap_tree, make_musan_tree

from asrser.data.corpus_stamp import files_stamp, iemocap_stamp, musan_stamp
from asrser.data.iemocap import parse_iemocap
from asrser.data.iemocap_files import input_files

LABEL_FILE = "Session2/dialog/EmoEvaluation/Ses02F_impro01.txt"
WAV = "Session3/sentences/wav/Ses03M_script01_1/Ses03M_script01_1_F000.wav"


@pytest.fixture
def iemocap(tmp_path) -> Path:
    return make_iemocap_tree(tmp_path / "IEMOCAP", per_emotion=1, seconds=0.2, bad_cases=False).root


def _later(path: Path) -> None:
    """A modification time clearly after the file's own (file systems with coarse clocks)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_the_stamp_covers_exactly_the_files_ingestion_reads(iemocap):
    frame, summary = parse_iemocap(iemocap)
    files = input_files(iemocap)
    wavs = [path for path in files if path.endswith(".wav")]
    texts = [path for path in files if path.endswith(".txt")]
    assert sorted(wavs) == sorted(frame["audio_path"])  # a clean tree: every wav is kept
    assert len(texts) == 2 * 2 * 5  # label and transcription files of two dialogs, 5 sessions
    assert not any("/." in path or "Categorical" in path for path in files)
    assert iemocap_stamp(iemocap).startswith(f"{len(files)} files, sha256 ")


@pytest.mark.parametrize("edit", ["label changed", "wav replaced", "wav removed", "wav added"])
def test_an_edit_changes_the_stamp(iemocap, edit):
    before = iemocap_stamp(iemocap)
    label_file, wav = iemocap / LABEL_FILE, iemocap / WAV
    if edit == "label changed":  # same size: only the modification time tells
        text = label_file.read_text()
        assert "\tang\t" in text
        label_file.write_text(text.replace("\tang\t", "\tsad\t", 1))
        _later(label_file)
    elif edit == "wav replaced":
        shutil.copy(iemocap / WAV.replace("F000", "F001"), wav)
    elif edit == "wav removed":
        wav.unlink()
    else:
        shutil.copy(wav, wav.with_name("Ses03M_script01_1_F077.wav"))
    assert iemocap_stamp(iemocap) != before


@pytest.mark.parametrize(
    "change",
    ["hidden file", "folder ingestion never opens", "copy keeping modification times"],
)
def test_what_ingestion_does_not_see_keeps_the_stamp(iemocap, tmp_path, change):
    before = iemocap_stamp(iemocap)
    if change == "hidden file":  # what Finder writes when a folder is browsed
        for folder in ("Session1/sentences/wav", "Session1/dialog/EmoEvaluation"):
            (iemocap / folder / ".DS_Store").write_bytes(bytes(64))
        (iemocap / "Session1" / "sentences" / "wav" / "._Ses01F_impro01").write_bytes(b"fork")
    elif change == "folder ingestion never opens":
        (iemocap / "Session1" / "dialog" / "avi").mkdir()
        (iemocap / "Session1" / "dialog" / "avi" / "Ses01F_impro01.avi").write_bytes(b"video")
        (iemocap / "Session2" / "dialog" / "EmoEvaluation" / "Categorical" / "x.txt").write_text(
            "Ses02F_impro01_F000 :Anger; ()\n"
        )
    else:  # rsync -a, cp -p: the same stamp at another root
        copy = tmp_path / "elsewhere" / "IEMOCAP"
        shutil.copytree(iemocap, copy, copy_function=shutil.copy2)
        assert iemocap_stamp(copy) == before
        shutil.copytree(iemocap, tmp_path / "plain", copy_function=shutil.copyfile)
        os.utime(tmp_path / "plain" / LABEL_FILE, ns=(0, 0))  # a plain copy: new times
        assert iemocap_stamp(tmp_path / "plain") != before
    assert iemocap_stamp(iemocap) == before


def test_a_file_replaced_behind_a_link_changes_the_stamp(iemocap, tmp_path):
    """A corpus of links into a shared store (or a root that is a link) is stamped by the
    files the links lead to."""
    store = tmp_path / "store"
    store.mkdir()
    wav = iemocap / WAV
    shutil.move(wav, store / wav.name)
    wav.symlink_to(store / wav.name)
    linked_root = tmp_path / "linked_root"
    linked_root.symlink_to(iemocap)
    before = iemocap_stamp(iemocap)
    assert iemocap_stamp(linked_root) == before
    shutil.copy(iemocap / WAV.replace("F000", "F001"), store / wav.name)
    replaced = iemocap_stamp(iemocap)
    assert replaced != before
    (store / wav.name).unlink()  # a broken link: the file is gone for ingestion too
    assert iemocap_stamp(iemocap) not in (before, replaced)


def test_the_stamp_reads_no_contents_and_writes_nothing(iemocap):
    """Nothing of a user's corpus is written to (times of access included)."""

    def listing():
        stats = {path: path.stat() for path in iemocap.rglob("*") if path.is_file()}
        return {path: (s.st_size, s.st_mtime_ns, s.st_atime_ns) for path, s in stats.items()}

    before = listing()
    iemocap_stamp(iemocap)
    assert listing() == before


def test_musan_stamp_follows_its_wavs(tmp_path):
    root = make_musan_tree(tmp_path / "musan", files_per_subset=2, seconds=0.2).root
    before = musan_stamp(root)
    (root / "noise" / "free-sound" / ".DS_Store").write_bytes(bytes(8))
    (root / "noise" / "free-sound" / "ANNOTATIONS").write_text("changed\n")
    assert musan_stamp(root) == before
    wav = next((root / "music" / "fma").glob("music-*.wav"))
    wav.write_bytes(wav.read_bytes()[:-2])
    assert musan_stamp(root) != before


def test_files_stamp_names_the_count_and_sees_a_file_gone(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).write_text(name)
    files = [tmp_path / "a", tmp_path / "b"]
    stamp = files_stamp(tmp_path, files)
    assert stamp.startswith("2 files, sha256 ") and len(stamp.split()[-1]) == 32
    assert files_stamp(tmp_path, reversed(files)) == stamp  # the listing order does not count
    (tmp_path / "b").unlink()
    assert files_stamp(tmp_path, files) not in (stamp, files_stamp(tmp_path, files[:1]))
