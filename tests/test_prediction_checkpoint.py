"""Resume points of asrser-predict: finished groups kept, read back as written, checked."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from asrser.common.fingerprint import model_fingerprint
from asrser.prediction.checkpoint import (
    PredictionCheckpoint,
    checkpoint_folder,
    discard_checkpoint,
)


def _files(tmp_path, names):
    for name in names:
        (tmp_path / name).write_bytes(name.encode())
    return [str(tmp_path / name) for name in names]


def _rows(paths, transcripts):
    return pd.DataFrame(
        {"file": paths, "segment": 0, "start_s": 0.0, "end_s": 1.25, "transcript": transcripts}
    )


def _transcripts(checkpoint, paths) -> dict[str, list[str]]:
    """What `finished` gives back: each finished file's transcripts."""
    files, rows = checkpoint.finished(paths)
    frame = pd.concat(rows) if rows else pd.DataFrame({"file": [], "transcript": []})
    assert set(frame["file"]) == files  # the rows of exactly the finished files
    return {name: frame.loc[frame["file"] == name, "transcript"].tolist() for name in files}


def test_finished_files_are_read_back_as_written(tmp_path):
    paths = _files(tmp_path, ["a.wav", "b.wav", "c.wav"])
    checkpoint = PredictionCheckpoint(tmp_path / "out.csv.partial", {"device": "cpu"})
    rows = _rows(paths[:2], ["", "NAN"])  # an empty transcript and one pandas would take for NaN
    saved = checkpoint.save(paths[:2], rows)
    pd.testing.assert_frame_equal(saved, rows, check_dtype=False)
    checkpoint.close()  # the run ends
    reopened = PredictionCheckpoint(tmp_path / "out.csv.partial", {"device": "cpu"})
    assert _transcripts(reopened, paths) == {paths[0]: [""], paths[1]: ["NAN"]}


def test_a_part_without_its_index_or_for_other_files_is_not_used(tmp_path):
    paths = _files(tmp_path, ["a.wav", "b.wav"])
    checkpoint = PredictionCheckpoint(tmp_path / "p", {})
    checkpoint.save(paths[:1], _rows(paths[:1], ["HELLO"]))
    _rows(paths[1:], ["KILLED"]).to_csv(tmp_path / "p" / "part-00001.csv", index=False)
    # killed between its CSV and index
    assert _transcripts(checkpoint, paths) == {paths[0]: ["HELLO"]}
    assert _transcripts(checkpoint, paths[1:]) == {}  # a file no longer asked for is left out
    os.utime(paths[0], ns=(0, 0))
    assert _transcripts(checkpoint, paths) == {}  # changed since: predicted again
    checkpoint.save(paths[:1], _rows(paths[:1], ["AGAIN"]))  # the next part number is free
    assert _transcripts(checkpoint, paths) == {paths[0]: ["AGAIN"]}
    assert sorted(path.name for path in (tmp_path / "p").glob("part-*")) == [
        "part-00000.csv",
        "part-00000.json",
        "part-00001.csv",  # overwritten by the next part, then indexed
        "part-00001.json",
    ]


def test_parts_are_numbered_past_the_highest_and_the_newest_counts(tmp_path):
    paths = _files(tmp_path, ["a.wav"])
    folder = tmp_path / "p"
    PredictionCheckpoint(folder, {}).save(paths, _rows(paths, ["OLD"]))
    for suffix in (".csv", ".json"):  # as after 100,000 groups: past five digits
        (folder / f"part-00000{suffix}").rename(folder / f"part-99999{suffix}")
    (folder / "part-notes.json").write_text("{}")  # not a part: ignored
    reopened = PredictionCheckpoint(folder, {})
    reopened.save(paths, _rows(paths, ["NEW"]))  # the file saved twice
    assert (folder / "part-100000.json").is_file()
    # Read in the order saved (by number, not by name): the newest rows count, once.
    assert _transcripts(reopened, paths) == {paths[0]: ["NEW"]}


def test_a_file_is_recognised_under_another_name(tmp_path, monkeypatch):
    """Killed in one folder with relative names, rerun from elsewhere with absolute ones (or
    through a link): the file is finished, and its rows carry the rerun's name for it."""
    _files(tmp_path, ["a.wav", "b.wav"])
    (tmp_path / "link.wav").symlink_to(tmp_path / "b.wav")
    monkeypatch.chdir(tmp_path)
    first = PredictionCheckpoint(tmp_path / "p", {})
    first.save(["a.wav", "link.wav"], _rows(["a.wav", "link.wav"], ["HELLO", "THERE"]))
    first.close()
    monkeypatch.chdir("/")
    again = [str(tmp_path / "a.wav"), str(tmp_path / "sub" / ".." / "b.wav")]
    (tmp_path / "sub").mkdir()
    assert _transcripts(PredictionCheckpoint(tmp_path / "p", {}), again) == {
        again[0]: ["HELLO"],
        again[1]: ["THERE"],
    }


def test_a_second_run_on_the_same_output_is_refused_while_the_first_runs(tmp_path):
    """Both would number their parts from the same point and overwrite each other's."""
    paths = _files(tmp_path, ["a.wav"])
    running = PredictionCheckpoint(tmp_path / "p", {})
    with pytest.raises(ValueError, match="another asrser-predict run is writing to this output"):
        PredictionCheckpoint(tmp_path / "p", {})
    running.save(paths, _rows(paths, ["HELLO"]))  # the first run goes on unharmed
    running.close()
    assert _transcripts(PredictionCheckpoint(tmp_path / "p", {}), paths) == {paths[0]: ["HELLO"]}


def test_other_settings_are_refused_once_rows_are_kept_and_the_folder_kept(tmp_path):
    folder = checkpoint_folder(tmp_path / "calls.csv")
    assert folder == tmp_path / "calls.csv.partial"
    paths = _files(tmp_path, ["a.wav"])
    settings = {"split_channels": False, "max_segment_seconds": 20.0}
    # No rows kept yet (a start that failed): other settings have nothing to mix with.
    PredictionCheckpoint(folder, {**settings, "max_segment_seconds": 10.0}).close()
    checkpoint = PredictionCheckpoint(folder, settings)
    assert not checkpoint.has_parts()
    checkpoint.save(paths, _rows(paths, ["HELLO"]))
    assert checkpoint.has_parts()
    checkpoint.close()
    PredictionCheckpoint(folder, settings).close()
    with pytest.raises(ValueError, match=r"calls.csv.partial: .*\(differing: split_channels\)"):
        PredictionCheckpoint(folder, {**settings, "split_channels": True})
    assert _transcripts(PredictionCheckpoint(folder, settings), paths) == {paths[0]: ["HELLO"]}
    discard_checkpoint(folder)
    assert not folder.exists()


def test_a_file_is_stamped_as_it_was_when_decoded(tmp_path):
    """A recording still being written grew after it was read: a resumed run redoes it."""
    paths = _files(tmp_path, ["growing.wav", "done.wav"])
    before = {
        paths[0]: (3, 0),
        paths[1]: (os.stat(paths[1]).st_size, os.stat(paths[1]).st_mtime_ns),
    }
    checkpoint = PredictionCheckpoint(tmp_path / "p", {})
    checkpoint.save(paths, _rows(paths, ["HALF", "ALL"]), stamps=before)
    assert _transcripts(checkpoint, paths) == {paths[1]: ["ALL"]}


def test_a_model_is_identified_by_its_config_and_weights(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"12345")
    first = model_fingerprint(tmp_path)
    assert first["model_dir"] == str(tmp_path.resolve())
    assert first["weights"]["model.safetensors"][0] == 5
    (tmp_path / "config.json").write_text('{"task": "ser"}')
    assert model_fingerprint(tmp_path)["config_sha256"] != first["config_sha256"]
