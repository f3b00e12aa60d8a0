"""Resume points of asrser-predict: finished groups kept, read back as written, checked."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from asrser.prediction_checkpoint import (
    PredictionCheckpoint,
    checkpoint_folder,
    discard_checkpoint,
    model_fingerprint,
)


def _files(tmp_path, names):
    for name in names:
        (tmp_path / name).write_bytes(name.encode())
    return [str(tmp_path / name) for name in names]


def _rows(paths, transcripts):
    return pd.DataFrame(
        {"file": paths, "segment": 0, "start_s": 0.0, "end_s": 1.25, "transcript": transcripts}
    )


def test_finished_files_are_read_back_as_written(tmp_path):
    paths = _files(tmp_path, ["a.wav", "b.wav", "c.wav"])
    checkpoint = PredictionCheckpoint(tmp_path / "out.csv.partial", {"device": "cpu"})
    rows = _rows(paths[:2], ["", "NAN"])  # an empty transcript and one pandas would take for NaN
    saved = checkpoint.save(paths[:2], rows)
    pd.testing.assert_frame_equal(saved, rows, check_dtype=False)
    finished = PredictionCheckpoint(tmp_path / "out.csv.partial", {"device": "cpu"}).finished(paths)
    assert list(finished) == paths[:2]
    assert finished[paths[0]]["transcript"].tolist() == [""]
    assert finished[paths[1]]["transcript"].tolist() == ["NAN"]


def test_a_part_without_its_index_or_for_other_files_is_not_used(tmp_path):
    paths = _files(tmp_path, ["a.wav", "b.wav"])
    checkpoint = PredictionCheckpoint(tmp_path / "p", {})
    checkpoint.save(paths[:1], _rows(paths[:1], ["HELLO"]))
    _rows(paths[1:], ["KILLED"]).to_csv(tmp_path / "p" / "part-00001.csv", index=False)
    assert list(checkpoint.finished(paths)) == paths[:1]  # killed between its CSV and index
    assert checkpoint.finished(paths[1:]) == {}  # a file no longer asked for is left out
    os.utime(paths[0], ns=(0, 0))
    assert checkpoint.finished(paths) == {}  # changed since: predicted again
    checkpoint.save(paths[:1], _rows(paths[:1], ["AGAIN"]))  # the next part number is free
    assert checkpoint.finished(paths)[paths[0]]["transcript"].tolist() == ["AGAIN"]


def test_other_settings_are_refused_and_the_folder_kept(tmp_path):
    folder = checkpoint_folder(tmp_path / "calls.csv")
    assert folder == tmp_path / "calls.csv.partial"
    PredictionCheckpoint(folder, {"split_channels": False, "max_segment_seconds": 20.0})
    PredictionCheckpoint(folder, {"split_channels": False, "max_segment_seconds": 20.0})
    with pytest.raises(ValueError, match=r"calls.csv.partial: .*\(split_channels differ\)"):
        PredictionCheckpoint(folder, {"split_channels": True, "max_segment_seconds": 20.0})
    assert (folder / "settings.json").is_file()
    discard_checkpoint(folder)
    assert not folder.exists()


def test_a_model_is_identified_by_its_config_and_weights(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"12345")
    first = model_fingerprint(tmp_path)
    assert first["model_dir"] == str(tmp_path.resolve())
    assert first["weights"]["model.safetensors"][0] == 5
    (tmp_path / "config.json").write_text('{"task": "ser"}')
    assert model_fingerprint(tmp_path)["config_sha256"] != first["config_sha256"]
