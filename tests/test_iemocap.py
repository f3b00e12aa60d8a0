"""IEMOCAP parser on fixture trees in the release's on-disk format, with its quirks."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import soundfile as sf
from fixtures import DECOY_SUFFIX, make_iemocap_tree, run_script

from asrser.common.io import read_json
from asrser.common.text import normalize_transcript
from asrser.data.iemocap import DROP_REASONS, MANIFEST_COLUMNS, parse_iemocap, speaker_of

REPO = Path(__file__).resolve().parents[1]
TEN_SPEAKERS = [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM"]


def test_manifest_has_the_contract_columns_sorted_rows_and_the_expected_utterances(iemocap_tree):
    frame, summary = parse_iemocap(iemocap_tree.root)
    assert tuple(frame.columns) == MANIFEST_COLUMNS
    assert frame["utt_id"].tolist() == sorted(frame["utt_id"])
    assert set(frame["utt_id"]) == iemocap_tree.expected_kept()
    # 10 speakers x (4 emotions x 2 + 1 exc) survive; the bad cases do not.
    assert summary["kept"] == len(frame) == 90
    assert set(frame["emotion"]) == {"ang", "hap", "sad", "neu"}


def test_speaker_is_session_plus_letter_of_the_last_id_segment(iemocap_tree):
    frame, _ = parse_iemocap(iemocap_tree.root)
    row = frame.set_index("utt_id").loc["Ses01F_impro01_M000"]
    assert (row["speaker"], row["gender"], row["session"]) == ("Ses01M", "M", 1)
    assert row["dialog"] == "Ses01F_impro01"
    row = frame.set_index("utt_id").loc["Ses03M_script01_1_F000"]
    assert (row["speaker"], row["gender"], row["session"]) == ("Ses03F", "F", 3)
    assert sorted(frame["speaker"].unique()) == TEN_SPEAKERS
    for utt_id, speaker in zip(frame["utt_id"], frame["speaker"], strict=True):
        assert speaker == iemocap_tree.utterances[utt_id].speaker
    assert speaker_of("Ses01F_impro01_MXX0") is None
    assert speaker_of("M: [BREATHING]") is None


def test_subfolders_and_hidden_files_are_not_read(iemocap_tree):
    # Categorical/, Attribute/, Self-evaluation/ and the ._ forks hold a decoy label (…_F900) and a
    # second label for an existing utterance; read by mistake they would show up below.
    frame, summary = parse_iemocap(iemocap_tree.root)
    assert not frame["utt_id"].str.endswith(DECOY_SUFFIX).any()
    assert summary["dropped"]["duplicate_label"] == 0
    assert summary["dropped"]["missing_audio"] == 1  # the fixture's own case, not the decoys
    assert summary["label_lines"] == sum(u.labelled for u in iemocap_tree.utterances.values())
    # Per session: a fork in EmoEvaluation and in transcriptions per dialog (2 + 2), one per
    # wav dialog folder (2) and one in sentences/wav.
    assert summary["hidden_files_skipped"] == 5 * 7


def test_transcripts_come_from_utterance_lines_only(iemocap_tree):
    frame, summary = parse_iemocap(iemocap_tree.root)
    assert not frame["utt_id"].str.contains("XX").any()
    for utt_id, raw, normalised in frame[["utt_id", "transcript_raw", "transcript"]].itertuples(
        index=False
    ):
        assert raw == iemocap_tree.utterances[utt_id].transcript
        assert normalised == normalize_transcript(raw)
    exc_row = frame[frame["emotion_raw"] == "exc"].iloc[0]
    assert "[LAUGHTER]" in exc_row["transcript_raw"]
    assert "LAUGHTER" not in exc_row["transcript"]
    # The no-transcript utterance has a line without timestamp, which is not a transcript.
    assert summary["dropped"]["no_transcript"] == 1
    assert summary["dropped_examples"]["no_transcript"] == ["Ses05M_script01_1_F004"]


@pytest.mark.parametrize("merge_exc", [True, False])
def test_exc_merge_on_and_off(iemocap_tree, merge_exc):
    frame, summary = parse_iemocap(iemocap_tree.root, merge_exc=merge_exc)
    exc_rows = frame[frame["emotion_raw"] == "exc"]
    assert set(frame["utt_id"]) == iemocap_tree.expected_kept(merge_exc)
    if merge_exc:
        assert len(exc_rows) == 10 and set(exc_rows["emotion"]) == {"hap"}
        assert summary["per_emotion"]["hap"] == 30
        assert summary["dropped"]["label_not_iem4"] == 2  # fru and xxx
    else:
        assert exc_rows.empty
        assert summary["per_emotion"]["hap"] == 20
        assert summary["dropped"]["label_not_iem4"] == 12
    assert summary["merge_exc"] is merge_exc


def test_every_drop_is_counted_by_reason(iemocap_tree):
    frame, summary = parse_iemocap(iemocap_tree.root)
    expected = iemocap_tree.expected_dropped()
    assert summary["dropped"] == {reason: expected.get(reason, 0) for reason in DROP_REASONS}
    assert summary["dropped"]["unreadable_audio"] == 2  # one empty wav, one unreadable wav
    assert summary["dropped"]["audio_without_label"] == 1
    assert summary["dropped_examples"]["audio_without_label"] == ["Ses01M_script01_1_F004"]
    # Nothing vanishes: every label line is kept or dropped for one reason.
    label_drops = summary["dropped_total"] - summary["dropped"]["audio_without_label"]
    assert summary["kept"] + label_drops == summary["label_lines"]
    assert summary["per_speaker"] == frame["speaker"].value_counts().sort_index().to_dict()
    assert summary["duration_hours"] == pytest.approx(frame["duration"].sum() / 3600, abs=1e-4)


def test_audio_facts_come_from_the_file_headers(iemocap_tree):
    frame, _ = parse_iemocap(iemocap_tree.root)
    for path, duration, rate in frame[["audio_path", "duration", "sample_rate"]].itertuples(
        index=False
    ):
        info = sf.info(path)
        assert Path(path).is_relative_to(iemocap_tree.root)
        assert duration == pytest.approx(info.frames / info.samplerate)
        assert rate == 16_000
    assert (frame["end"] > frame["start"]).all()


def test_transcripts_with_digits_are_counted_and_named(tmp_path, caplog):
    """The alphabet has no digits: a reference's "5" is dropped, so the user is told."""
    tree = make_iemocap_tree(tmp_path / "iemocap", per_emotion=1, bad_cases=False)
    frame, summary = parse_iemocap(tree.root)
    assert summary["transcripts_with_digits"] == 0 and summary["digit_examples"] == []
    utt_id = frame["utt_id"].iloc[0]
    lines = next(tree.root.glob(f"Session1/dialog/transcriptions/{utt_id.rsplit('_', 1)[0]}.txt"))
    text = lines.read_text()
    raw = frame["transcript_raw"].iloc[0]
    lines.write_text(text.replace(f"]: {raw}", f"]: {raw} at 5 [GARBAGE 2]", 1))
    frame, summary = parse_iemocap(tree.root)
    assert summary["transcripts_with_digits"] == 1 and summary["digit_examples"] == [utt_id]
    assert frame["transcript"].iloc[0] == normalize_transcript(raw) + " AT"
    assert f"1 transcripts hold digits, which are left out of the references (e.g. {utt_id})" in (
        caplog.text
    )


def test_accents_and_smart_quotes_keep_their_words_and_unspellable_letters_are_named(
    tmp_path, caplog
):
    """UTF-8 accents fold to letters; a cp1252 file's bytes (U+FFFD) are counted and named."""
    tree = make_iemocap_tree(tmp_path / "iemocap", per_emotion=1, bad_cases=False)
    frame, summary = parse_iemocap(tree.root)
    assert summary["transcripts_with_unspellable_letters"] == 0
    dialogs = frame.drop_duplicates("dialog")["utt_id"]  # one file each: two encodings
    first, second = dialogs.iloc[0], dialogs.iloc[1]
    raws = dict(zip(frame["utt_id"], frame["transcript_raw"], strict=True))
    for utt_id, encoding, extra in ((first, "utf-8", "café don’t"), (second, "cp1252", "café")):
        dialog = utt_id.rsplit("_", 1)[0]
        path = next(tree.root.glob(f"Session*/dialog/transcriptions/{dialog}.txt"))
        text = path.read_text(encoding="utf-8")
        path.write_bytes(
            text.replace(f"]: {raws[utt_id]}", f"]: {raws[utt_id]} {extra}", 1).encode(encoding)
        )
    frame, summary = parse_iemocap(tree.root)
    transcripts = dict(zip(frame["utt_id"], frame["transcript"], strict=True))
    assert transcripts[first] == normalize_transcript(raws[first]) + " CAFE DON'T"
    assert summary["transcripts_with_unspellable_letters"] == 1
    assert summary["unspellable_letters"] == "\ufffd"
    assert summary["unspellable_examples"] == [second]
    assert "1 transcripts hold letters the encoder's alphabet cannot spell" in caplog.text
    assert "is not UTF-8" in caplog.text


def test_a_clean_tree_drops_nothing(tmp_path):
    tree = make_iemocap_tree(tmp_path / "iemocap", per_emotion=1, bad_cases=False)
    frame, summary = parse_iemocap(tree.root, expected_speakers=TEN_SPEAKERS)
    assert len(frame) == 10 * (4 + 1)
    assert set(summary["dropped"].values()) == {0}


def test_speakers_must_match_the_configured_fold_ids(iemocap_tree):
    parse_iemocap(iemocap_tree.root, expected_speakers=list(reversed(TEN_SPEAKERS)))
    configured = [s for s in TEN_SPEAKERS if s != "Ses03M"] + ["Ses06F"]
    with pytest.raises(ValueError, match="speakers") as error:
        parse_iemocap(iemocap_tree.root, expected_speakers=configured)
    assert "configured but not in the corpus: ['Ses06F']" in str(error.value)
    assert "in the corpus but not configured: ['Ses03M']" in str(error.value)


def test_missing_root_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "nowhere"))):
        parse_iemocap(tmp_path / "nowhere")


def test_root_without_sessions_names_the_path(tmp_path):
    (tmp_path / "empty_release" / "Documentation").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no Session1 .. Session5"):
        parse_iemocap(tmp_path / "empty_release")


def test_missing_session_folder_names_it(iemocap_tree):
    shutil.rmtree(iemocap_tree.root / "Session3")
    with pytest.raises(FileNotFoundError, match="Session3"):
        parse_iemocap(iemocap_tree.root)


def test_no_label_lines_is_a_clear_error(iemocap_tree):
    for path in iemocap_tree.root.glob("Session*/dialog/EmoEvaluation/*.txt"):
        path.write_text("% header only\n")
    with pytest.raises(ValueError, match="no label lines"):
        parse_iemocap(iemocap_tree.root)


def test_script_writes_manifest_summary_and_log(iemocap_tree, tmp_path):
    out = tmp_path / "results" / "data"
    run_script(
        REPO / "workflow" / "scripts" / "ingest_iemocap.py",
        input={"root": str(iemocap_tree.root)},
        output={"manifest": str(out / "iemocap.csv"), "summary": str(out / "iemocap_summary.json")},
        params={"speakers": TEN_SPEAKERS, "merge_exc": True},
        log=tmp_path / "logs" / "ingest_iemocap.log",
    )
    manifest = pd.read_csv(out / "iemocap.csv", keep_default_na=False)
    assert tuple(manifest.columns) == MANIFEST_COLUMNS
    assert len(manifest) == read_json(out / "iemocap_summary.json")["kept"] == 90
    log_text = (tmp_path / "logs" / "ingest_iemocap.log").read_text()
    assert "'unreadable_audio': 2" in log_text
    assert sorted(p.name for p in out.iterdir()) == ["iemocap.csv", "iemocap_summary.json"]


def _clean_tree(tmp_path):
    return make_iemocap_tree(tmp_path / "iemocap", per_emotion=1, bad_cases=False)


def _drop_samples(path: Path, keep: int) -> None:
    audio, rate = sf.read(path, dtype="int16")
    sf.write(path, audio[:keep], rate, subtype="PCM_16")


def test_audio_cut_short_of_its_label_is_dropped_counted_and_named(tmp_path, caplog):
    """A wav cut to half its samples keeps no transcript against half its audio; one short by
    less than the tolerance (the release's rounding and a copy cut on another grid) is kept."""
    tree = _clean_tree(tmp_path)
    frame, _ = parse_iemocap(tree.root)
    rows = frame.set_index("utt_id")
    cut, trimmed = rows.index[3], rows.index[7]
    cut_frames = sf.info(rows.loc[cut, "audio_path"]).frames
    _drop_samples(rows.loc[cut, "audio_path"], cut_frames // 2)
    trimmed_frames = sf.info(rows.loc[trimmed, "audio_path"]).frames
    _drop_samples(rows.loc[trimmed, "audio_path"], trimmed_frames - 160)  # 10 ms
    span = rows.loc[cut, "end"] - rows.loc[cut, "start"]
    assert cut_frames / 16_000 == pytest.approx(span, abs=1e-4)

    frame, summary = parse_iemocap(tree.root)
    assert cut not in set(frame["utt_id"]) and trimmed in set(frame["utt_id"])
    assert summary["dropped"]["audio_shorter_than_label"] == 1
    assert summary["dropped_examples"]["audio_shorter_than_label"] == [cut]
    assert summary["kept"] + summary["dropped_total"] == summary["label_lines"] == len(rows)
    assert summary["short_audio_examples"] == [
        f"{rows.loc[cut, 'audio_path']} ({cut_frames // 2 / 16_000:.3f} s of audio; its label "
        f"[{rows.loc[cut, 'start']:.4f} - {rows.loc[cut, 'end']:.4f}] spans {span:.3f} s)"
    ]
    assert "1 wav files are shorter than their label's span by more than 0.02 s" in caplog.text
    assert f"{rows.loc[cut, 'audio_path']} (" in caplog.text


def test_a_label_file_without_labels_is_named_and_its_audio_counted(tmp_path, caplog):
    tree = _clean_tree(tmp_path)
    dialog = "Ses02M_script01_1"
    label_file = tree.root / "Session2" / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
    label_file.write_text(label_file.read_text().split("\n[", 1)[0])  # the header only
    wavs = sorted((tree.root / "Session2" / "sentences" / "wav" / dialog).glob("Ses*.wav"))
    frame, summary = parse_iemocap(tree.root)
    assert not frame["dialog"].eq(dialog).any()
    assert summary["label_files_without_labels"] == [str(label_file)]
    assert summary["dropped"]["audio_without_label"] == len(wavs) > 0
    assert f"{label_file}: no label line in this EmoEvaluation file" in caplog.text
    assert (
        f"{len(wavs)} wav files have no label line and are left out (audio_without_label): "
        f"{wavs[0]}; " in caplog.text
    )
    assert summary["audio_without_label_examples"] == [str(p) for p in wavs[:5]]


def test_a_clean_tree_warns_about_nothing(tmp_path, caplog):
    frame, summary = parse_iemocap(_clean_tree(tmp_path).root)
    assert summary["label_files_without_labels"] == [] and summary["damaged_ids"] == 0
    assert "WARNING" not in caplog.text


def _line_number(path: Path, byte: bytes) -> int:
    return next(n for n, line in enumerate(path.read_bytes().split(b"\n"), 1) if byte in line)


def test_damaged_ids_are_counted_and_named(tmp_path, caplog):
    """A byte that is not UTF-8 in a transcript id, a label id or a wav name: each is counted
    and named by its file (and line), and the utterance it hid is still counted by reason."""
    tree = _clean_tree(tmp_path)
    trans = tree.root / "Session1" / "dialog" / "transcriptions" / "Ses01F_impro01.txt"
    trans.write_bytes(
        trans.read_bytes().replace(b"Ses01F_impro01_F000 [", b"Ses01F_impro01_F\xff00 [")
    )
    labels = tree.root / "Session3" / "dialog" / "EmoEvaluation" / "Ses03F_impro01.txt"
    labels.write_bytes(
        labels.read_bytes().replace(b"\tSes03F_impro01_M000\t", b"\tSes03F_imp\xe9ro01_M000\t")
    )
    wav = (
        tree.root / "Session4" / "sentences" / "wav" / "Ses04F_impro01" / "Ses04F_impro01_F000.wav"
    )
    damaged_wav = Path(os.fsdecode(bytes(wav.parent) + b"/Ses04F_impro01_F\xff00.wav"))
    wav.rename(damaged_wav)

    frame, summary = parse_iemocap(tree.root)
    assert summary["damaged_ids"] == 3
    trans_line, label_line = _line_number(trans, b"\xff"), _line_number(labels, b"\xe9")
    printable_wav = str(wav.parent / "Ses04F_impro01_F\\xff00.wav")
    assert summary["damaged_id_examples"] == [
        f"{trans}:{trans_line}: Ses01F_impro01_F\ufffd00",
        f"{labels}:{label_line}: Ses03F_imp\ufffdro01_M000",
        printable_wav,
    ]
    assert summary["dropped_examples"]["no_transcript"] == ["Ses01F_impro01_F000"]
    assert summary["dropped_examples"]["bad_utterance_id"] == ["Ses03F_imp\ufffdro01_M000"]
    assert summary["dropped_examples"]["missing_audio"] == ["Ses04F_impro01_F000"]
    assert summary["dropped_examples"]["audio_without_label"] == [
        "Ses03F_impro01_M000",  # its label line's id is damaged
        "Ses04F_impro01_F\\xff00",
    ]
    assert summary["kept"] == 50 - 3
    assert "3 utterance ids hold bytes no IEMOCAP id has" in caplog.text
    assert printable_wav in caplog.text and f"{trans}:{trans_line}: " in caplog.text
    json.dumps(summary, allow_nan=False).encode("utf-8")  # the summary file can hold it
