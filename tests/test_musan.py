"""MUSAN ingestion on fixture trees: conversion, ignored files, bad files, seeded pools."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from fixtures import make_musan_tree, run_script

from asrser.common.io import read_json
from asrser.data.musan import MANIFEST_COLUMNS, ingest_musan, split_pools

REPO = Path(__file__).resolve().parents[1]


def _ingest(tree, tmp_path, seed=7, test_fraction=0.3):
    return ingest_musan(tree.root, tmp_path / "musan_16k", seed=seed, test_fraction=test_fraction)


def test_manifest_lists_every_readable_wav_and_ignores_the_rest(musan_tree, tmp_path):
    frame, summary = _ingest(musan_tree, tmp_path)
    assert tuple(frame.columns) == MANIFEST_COLUMNS
    assert set(frame["name"]) == musan_tree.kept()
    assert list(frame.itertuples(index=False)) == list(
        frame.sort_values(["type", "subset", "name"]).itertuples(index=False)
    )
    for row in frame.itertuples(index=False):
        expected = musan_tree.files[row.name]
        assert (row.type, row.subset) == (expected.type, expected.subset)
        assert (row.orig_sample_rate, row.orig_channels) == (
            expected.sample_rate,
            expected.channels,
        )
    # README/ANNOTATIONS/LICENSE and ._ forks are counted as ignored, never listed.
    assert summary["ignored"] == {"hidden": 6, "not_in_a_subset": 3, "not_wav": 12}
    assert summary["wav_files"] == len(musan_tree.files)


def test_unreadable_and_empty_files_are_reported_not_fatal(musan_tree, tmp_path):
    frame, summary = _ingest(musan_tree, tmp_path)
    assert summary["dropped"] == {"unreadable": 1, "empty": 1}
    assert [Path(p).name for p in summary["dropped_files"]["empty"]] == [
        "noise-free-sound-empty.wav"
    ]
    assert [Path(p).name for p in summary["dropped_files"]["unreadable"]] == [
        "noise-sound-bible-bad.wav"
    ]
    assert summary["kept"] == len(frame) == len(musan_tree.kept())


@pytest.mark.parametrize(
    "name", ["music-hd-classical-0000", "speech-us-gov-0000", "noise-sound-bible-0000"]
)
def test_stereo_and_other_rates_are_converted_to_16k_mono(musan_tree, tmp_path, name):
    frame, _ = _ingest(musan_tree, tmp_path)
    row = frame.set_index("name").loc[name]
    source = musan_tree.files[name]
    assert bool(row["converted"])
    assert Path(row["audio_path"]) == tmp_path / "musan_16k" / source.type / source.subset / (
        f"{name}.wav"
    )
    assert Path(row["source_path"]) == musan_tree.root / source.type / source.subset / f"{name}.wav"
    audio, rate = sf.read(row["audio_path"], dtype="float32")
    assert rate == 16_000 and audio.ndim == 1
    assert len(audio) / 16_000 == pytest.approx(source.seconds, abs=2 / 16_000)
    assert row["duration"] == pytest.approx(len(audio) / 16_000)
    if source.sample_rate == 16_000:  # stereo only: the mono file is the channel average
        stereo, _ = sf.read(row["source_path"], dtype="float32")
        np.testing.assert_allclose(audio, stereo.mean(axis=1), atol=2 / 32768)


def test_16k_mono_files_are_used_in_place(musan_tree, tmp_path):
    frame, summary = _ingest(musan_tree, tmp_path)
    in_place = frame[~frame["converted"]]
    assert (in_place["audio_path"] == in_place["source_path"]).all()
    assert (in_place["orig_sample_rate"] == 16_000).all() and (in_place["orig_channels"] == 1).all()
    assert summary["converted"] == 3
    written = sorted(p.name for p in (tmp_path / "musan_16k").rglob("*.wav"))
    assert written == sorted(f"{n}.wav" for n in frame.loc[frame["converted"], "name"])


def test_converted_dir_is_replaced_as_a_whole(musan_tree, tmp_path):
    stale = tmp_path / "musan_16k" / "music" / "old" / "stale.wav"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left from a killed run")
    _ingest(musan_tree, tmp_path)
    assert not stale.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_pools_are_disjoint_seeded_and_cover_every_file(tmp_path):
    tree = make_musan_tree(tmp_path / "musan", files_per_subset=5, bad_cases=False)
    first, summary = _ingest(tree, tmp_path, seed=3)
    again, _ = ingest_musan(tree.root, tmp_path / "again", seed=3, test_fraction=0.3)
    other, _ = ingest_musan(tree.root, tmp_path / "other", seed=4, test_fraction=0.3)
    assert set(first["pool"]) == {"train", "test"}
    assert first["pool"].tolist() == again["pool"].tolist()
    assert first["pool"].tolist() != other["pool"].tolist()
    for kind, group in first.groupby("type"):
        assert len(group) == 10 and group["name"].is_unique
        assert (group["pool"] == "test").sum() == 3  # round(0.3 * 10)
        assert (summary["per_type"][kind]["train"], summary["per_type"][kind]["test"]) == (7, 3)


def test_split_pools_keeps_one_file_in_each_pool():
    rng = np.random.default_rng(0)
    assert sorted(split_pools(2, 0.01, rng)) == ["test", "train"]
    assert sorted(split_pools(2, 0.99, rng)) == ["test", "train"]
    assert list(split_pools(10, 0.5, np.random.default_rng(1))).count("test") == 5
    with pytest.raises(ValueError, match="at least 2"):
        split_pools(1, 0.3, rng)


def test_a_type_with_fewer_than_two_usable_files_is_a_clear_error(musan_tree, tmp_path):
    for path in (musan_tree.root / "speech").rglob("*-0001.wav"):
        path.unlink()
    shutil.rmtree(musan_tree.root / "speech" / "us-gov")
    with pytest.raises(ValueError, match="'speech' has 1 usable wav file"):
        _ingest(musan_tree, tmp_path)


def test_missing_root_or_type_folder_names_the_path(musan_tree, tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        ingest_musan(tmp_path / "nowhere", tmp_path / "out", seed=1, test_fraction=0.3)
    shutil.rmtree(musan_tree.root / "noise")
    with pytest.raises(FileNotFoundError, match="lacks noise/"):
        _ingest(musan_tree, tmp_path)


def test_test_fraction_must_be_a_proper_fraction(musan_tree, tmp_path):
    with pytest.raises(ValueError, match="test_fraction"):
        _ingest(musan_tree, tmp_path, test_fraction=1.0)


def test_script_writes_manifest_summary_converted_dir_and_log(musan_tree, tmp_path):
    out = tmp_path / "results" / "data"
    run_script(
        REPO / "workflow" / "scripts" / "ingest_musan.py",
        input={"root": str(musan_tree.root)},
        output={
            "manifest": str(out / "musan.csv"),
            "summary": str(out / "musan_summary.json"),
            "converted": str(out / "musan_16k"),
        },
        params={"seed": 7, "test_fraction": 0.3},
        log=tmp_path / "logs" / "ingest_musan.log",
    )
    manifest = pd.read_csv(out / "musan.csv")
    assert tuple(manifest.columns) == MANIFEST_COLUMNS
    assert manifest["converted"].dtype == bool
    assert all(Path(p).is_file() for p in manifest["audio_path"])
    assert read_json(out / "musan_summary.json")["kept"] == len(manifest)
    assert "'empty': 1" in (tmp_path / "logs" / "ingest_musan.log").read_text()


def test_every_type_without_enough_wavs_is_named_at_once(musan_tree, tmp_path):
    """A copy that lost its wavs (a partial download, a wrong --include) names each empty type,
    not only the first."""
    for kind in ("music", "noise"):
        for path in (musan_tree.root / kind).rglob("*.wav"):
            path.unlink()
    for path in sorted((musan_tree.root / "speech").rglob("speech-*.wav"))[1:]:
        path.unlink()
    with pytest.raises(ValueError) as error:
        _ingest(musan_tree, tmp_path)
    assert (
        "'music' has 0 usable wav file(s), 'noise' has 0 usable wav file(s), 'speech' has 1 "
        "usable wav file(s); at least 2 per type are needed" in str(error.value)
    )


def test_an_unreadable_file_is_named_by_its_path_once(musan_tree, tmp_path, caplog):
    _ingest(musan_tree, tmp_path)
    bad = musan_tree.root / "noise" / "sound-bible" / "noise-sound-bible-bad.wav"
    assert f"{bad}: unreadable audio (" in caplog.text
    assert "b'" not in caplog.text and caplog.text.count(str(bad)) == 1
