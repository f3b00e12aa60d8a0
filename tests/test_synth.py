"""The embedded synthetic data: eSpeak through ctypes, the IEMOCAP-format corpus, the MUSAN-layout
bank and the pretraining corpus (layouts, quirks, determinism, what ingestion reads from them)."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from asrser import SYNTHETIC_MARKER
from asrser.common.text import normalize_transcript
from asrser.data.audio import audio_info
from asrser.data.iemocap import parse_iemocap, speaker_of
from asrser.data.musan import ingest_musan
from asrser.synthesis import write_embedded_corpus
from asrser.synthesis.espeak import Prosody, SpeechJob, render_jobs, synthesize
from asrser.synthesis.iemocap_corpus import write_iemocap_corpus
from asrser.synthesis.iemocap_plan import DEMO_SPEAKERS
from asrser.synthesis.musan_bank import NOISE_KINDS, SUBSETS, synth_noise, write_musan_bank
from asrser.synthesis.pretrain_corpus import (
    DEMO_VOICES,
    N_SPEAKERS,
    other_speakers,
    write_pretrain_corpus,
)
from asrser.synthesis.pretrain_text_bank import pretrain_sentence
from asrser.synthesis.text_bank import demo_sentence, vocabulary

SPEAKERS = [s.speaker_id for s in DEMO_SPEAKERS]
TEXT = "Did you remember to bring the documents to the office this morning?"


def median_f0(audio: np.ndarray, sr: int = 16000) -> float:
    """Median autocorrelation pitch (Hz) of the loud, periodic frames."""
    frame, hop = 640, 160
    starts = np.arange(0, audio.size - frame, hop)
    frames = audio[starts[:, None] + np.arange(frame)] * np.hanning(frame)
    power = np.abs(np.fft.rfft(frames, 2 * frame)) ** 2
    autocorr = np.fft.irfft(power)[:, :frame]
    lo, hi = sr // 400, sr // 60
    lag = lo + np.argmax(autocorr[:, lo:hi], axis=1)
    strength = autocorr[np.arange(len(lag)), lag] / (autocorr[:, 0] + 1e-12)
    loud = np.sqrt((frames**2).mean(axis=1)) > 0.1 * np.sqrt((frames**2).mean(axis=1)).max()
    return float(np.median(sr / lag[loud & (strength > 0.5)]))


def tree_digest(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under root (hidden ones included)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------- eSpeak


def test_espeak_speech_is_16k_and_audible():
    audio = synthesize(TEXT, "en-us+f3")
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 2.0 < audio.size / 16000 < 6.0
    assert np.sqrt(np.mean(audio**2)) > 0.02


def test_espeak_is_a_pure_function_of_its_arguments():
    first = synthesize(TEXT, "en-us+m1", Prosody(rate=160), seed=3)
    synthesize("Something else entirely, in another voice.", "en-gb-x-rp+f2", Prosody(pitch=80))
    again = synthesize(TEXT, "en-us+m1", Prosody(rate=160), seed=3)
    np.testing.assert_array_equal(first, again)


def test_ten_demo_voices_are_distinct_and_gender_appropriate():
    pitches = {}
    for speaker in DEMO_SPEAKERS:
        audio = synthesize(TEXT, speaker.voice, Prosody(speaker.rate, speaker.pitch))
        pitches[speaker.speaker_id] = median_f0(audio)
    for speaker_id, f0 in pitches.items():
        assert (f0 > 150) if speaker_id.endswith("F") else (f0 < 140), (speaker_id, f0)
    assert len({s.voice for s in DEMO_SPEAKERS}) == 10
    assert len({(s.voice, s.pitch, s.rate) for s in DEMO_SPEAKERS}) == 10


def test_prosody_moves_rate_and_pitch():
    slow_low = synthesize(TEXT, "en-us+f1", Prosody(rate=120, pitch=30))
    fast_high = synthesize(TEXT, "en-us+f1", Prosody(rate=220, pitch=80))
    assert slow_low.size > 1.5 * fast_high.size
    assert median_f0(fast_high) > 1.3 * median_f0(slow_low)


def test_espeak_rejects_unknown_voice_and_empty_text():
    with pytest.raises(ValueError, match="unknown variant"):
        synthesize("hello", "en-us+nosuchvariant")
    with pytest.raises(ValueError, match="unknown language"):
        synthesize("hello", "xx-nowhere")
    with pytest.raises(ValueError, match="empty"):
        synthesize("   ", "en-us")


def test_render_jobs_same_files_whatever_the_process_count(tmp_path):
    def jobs(folder):
        return [
            SpeechJob(str(folder / f"{i}.wav"), f"Sentence number {i}.", "en-us+m3", Prosody(), i)
            for i in range(4)
        ]

    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    counts_a = render_jobs(jobs(tmp_path / "a"), processes=1)
    counts_b = render_jobs(jobs(tmp_path / "b"), processes=2)
    assert counts_a == counts_b
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")


# ---------------------------------------------------------------- text banks


def test_demo_wording_cues_are_imperfect():
    rng = np.random.default_rng(0)
    kinds = pd.Series([demo_sentence("ang", rng)[1] for _ in range(600)]).value_counts(
        normalize=True
    )
    assert 0.4 < kinds["emotion"] < 0.6
    assert kinds["plain"] > 0.25 and kinds["misleading"] > 0.07


def test_pretraining_text_differs_from_demo_text_but_covers_its_words():
    rng = np.random.default_rng(1)
    demo = {demo_sentence(e, rng)[0] for e in ("ang", "hap", "sad", "neu") for _ in range(300)}
    pretrain = {pretrain_sentence(rng) for _ in range(1200)}
    assert not demo & pretrain
    assert vocabulary("demo") <= vocabulary("pretrain")
    assert len(vocabulary("demo")) > 400


def test_pretraining_text_is_not_short_of_the_demos_conversational_words():
    # Narration alone left these rare (<0.1 of their share in the demo's text); the encoder then
    # spelled them by ear. Its dialogue lines must bring them within a factor 3.
    rng = np.random.default_rng(2)
    demo = " ".join(demo_sentence(e, rng)[0] for e in ("ang", "hap", "sad", "neu") * 500)
    pretrain = " ".join(pretrain_sentence(rng) for _ in range(2000))
    demo_words, pretrain_words = (normalize_transcript(t).split() for t in (demo, pretrain))
    for word in ("I", "YOU", "CAN", "WANT", "AM", "TODAY", "DAY", "SHOULD"):
        demo_share = demo_words.count(word) / len(demo_words)
        pretrain_share = pretrain_words.count(word) / len(pretrain_words)
        assert pretrain_share > demo_share / 3, word


def test_pretraining_text_makes_few_demo_words_rare():
    # Demo words met less than once in 2000 pretraining words were mostly misspelled by the
    # pretrained encoder; with narration and dialogue alone they were 0.25 of the demo's words.
    rng = np.random.default_rng(3)
    demo = " ".join(demo_sentence(e, rng)[0] for e in ("ang", "hap", "sad", "neu") * 500)
    pretrain = " ".join(pretrain_sentence(rng) for _ in range(4000))
    demo_words, pretrain_words = (normalize_transcript(t).split() for t in (demo, pretrain))
    pretrain_counts = Counter(pretrain_words)
    rare = [w for w in demo_words if pretrain_counts[w] < len(pretrain_words) / 2000]
    assert len(rare) / len(demo_words) < 0.18


# ---------------------------------------------------------------- IEMOCAP format


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "IEMOCAP_full_release"
    write_iemocap_corpus(root, seed=11, utterances_per_emotion=2, processes=2)
    return root


def test_corpus_has_the_iemocap_layout_and_quirks(corpus):
    for n in range(1, 6):
        session = corpus / f"Session{n}"
        emo = session / "dialog" / "EmoEvaluation"
        for sub in ("Categorical", "Attribute", "Self-evaluation"):
            assert any((emo / sub).iterdir()), f"{emo / sub} is empty"
        label_files = sorted(emo.glob("Ses*.txt"))
        assert label_files and all(f.name.startswith(f"Ses0{n}") for f in label_files)
        first = label_files[0].read_text().splitlines()
        assert first[0] == "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"
        assert first[1] == "" and first[2].startswith("[") and first[3].startswith("C-E")
        assert {f.name for f in (session / "dialog" / "transcriptions").glob("*.txt")} == {
            f.name for f in label_files
        }
    transcripts = "\n".join(p.read_text() for p in corpus.glob("Session*/dialog/transcriptions/*"))
    assert "XX0 [" in transcripts
    assert any(line.split(" ")[0].endswith(":") for line in transcripts.splitlines())
    hidden = list(corpus.glob("Session*/sentences/wav/*/._*.wav"))
    assert hidden and all(p.stat().st_size == 4096 for p in hidden)
    assert (corpus / SYNTHETIC_MARKER).is_file()  # the workflow may replace this folder


def test_every_dialog_has_both_speakers_and_consistent_times(corpus):
    for label_file in corpus.glob("Session*/dialog/EmoEvaluation/Ses*.txt"):
        lines = [line.split("\t") for line in label_file.read_text().splitlines()]
        turns = [(parts[1], parts[0]) for parts in lines if parts[0].startswith("[")]
        assert {speaker_of(utt)[-1] for utt, _ in turns} == {"F", "M"}
        dialog = label_file.stem
        for utt, stamp in turns:
            start, end = (float(x) for x in stamp.strip("[]").split(" - "))
            wav = label_file.parents[2] / "sentences" / "wav" / dialog / f"{utt}.wav"
            info = sf.info(str(wav))
            assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
            assert end - start == pytest.approx(info.frames / 16000, abs=2e-4)


def test_ingestion_reads_the_corpus(corpus):
    manifest, summary = parse_iemocap(corpus, merge_exc=True, expected_speakers=SPEAKERS)
    assert summary["kept"] == 2 * 4 * 10
    assert summary["per_speaker"] == dict.fromkeys(sorted(SPEAKERS), 8)
    assert summary["per_emotion"] == dict.fromkeys(["ang", "hap", "neu", "sad"], 20)
    assert summary["per_emotion_raw"]["exc"] == 10
    assert summary["dropped"]["label_not_iem4"] == 30  # fru, sur, xxx: three per speaker
    assert sum(summary["dropped"].values()) == 30
    # The spans written agree with the audio: no utterance is taken for a truncated one.
    assert summary["dropped"]["audio_shorter_than_label"] == 0
    assert summary["hidden_files_skipped"] >= 3
    assert (manifest["transcript"] != "").all()
    assert manifest["duration"].between(1.0, 6.5).all()
    without_exc, summary_off = parse_iemocap(corpus, merge_exc=False)
    assert summary_off["per_emotion"]["hap"] == 10
    # Each voice speaks its own turns: Ses0nF_..._M### is the session's male.
    male_in_female_dialog = manifest[manifest["utt_id"].str.match(r"Ses0\dF_.*_M\d+$")]
    assert len(male_in_female_dialog) and (male_in_female_dialog["gender"] == "M").all()


def test_corpus_is_deterministic_whatever_the_process_count(tmp_path):
    write_iemocap_corpus(tmp_path / "a", seed=4, utterances_per_emotion=1, processes=1)
    write_iemocap_corpus(tmp_path / "b", seed=4, utterances_per_emotion=1, processes=2)
    write_iemocap_corpus(tmp_path / "c", seed=5, utterances_per_emotion=1, processes=2)
    digest_a = tree_digest(tmp_path / "a")
    assert digest_a == tree_digest(tmp_path / "b")
    assert digest_a != tree_digest(tmp_path / "c")


# ---------------------------------------------------------------- MUSAN layout


def test_musan_bank_layout_formats_and_ingestion(tmp_path):
    root = tmp_path / "musan"
    write_musan_bank(root, seed=3, files_per_type=4, seconds=1.5)
    for kind, subsets in SUBSETS.items():
        wavs = sorted((root / kind).glob("*/*.wav"))
        assert len(wavs) == 4
        assert all(w.parent.name in subsets and w.name.startswith(f"{kind}-") for w in wavs)
        for subset_dir in {w.parent for w in wavs}:
            assert (subset_dir / "ANNOTATIONS").is_file() and (subset_dir / "LICENSE").is_file()
    assert (root / SYNTHETIC_MARKER).is_file()
    formats = {
        p.relative_to(root).parts[0]: [
            (audio_info(w).sample_rate, audio_info(w).channels)
            for w in sorted((root / p.relative_to(root).parts[0]).glob("*/*.wav"))
        ]
        for p in root.iterdir()
        if p.is_dir()
    }
    assert (44100, 2) in formats["music"] and (22050, 1) in formats["noise"]
    assert (44100, 1) in formats["speech"]
    for kind in formats:  # a small minority only
        assert sum(f != (16000, 1) for f in formats[kind]) == 1
    for wav in root.glob("*/*/*.wav"):
        assert audio_info(wav).duration == pytest.approx(1.5, abs=1e-3)
        assert 0.05 < np.abs(sf.read(str(wav))[0]).max() <= 1.0
    manifest, summary = ingest_musan(root, tmp_path / "converted", seed=1, test_fraction=0.3)
    assert len(manifest) == 12 and summary["converted"] == 3
    assert manifest.groupby("type")["pool"].nunique().eq(2).all()
    second = tmp_path / "musan2"
    write_musan_bank(second, seed=3, files_per_type=4, seconds=1.5)
    assert tree_digest(root) == tree_digest(second)


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_noise_kinds_are_finite_and_not_silent(kind):
    noise = synth_noise(kind, 1.0, 16000, np.random.default_rng(0))
    assert noise.shape == (16000,) and np.isfinite(noise).all() and noise.std() > 0.1


# ---------------------------------------------------------------- pretraining corpus and API


def test_pretrain_corpus_manifest(tmp_path):
    out = tmp_path / "pretrain"
    manifest = write_pretrain_corpus(out, seed=2, n_utterances=12, processes=2)
    on_disk = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    assert list(on_disk.columns) == ["utt_id", "audio_path", "transcript", "duration", "speaker"]
    pd.testing.assert_frame_equal(on_disk, manifest, check_dtype=False)
    assert on_disk["utt_id"].is_unique and len(on_disk) == 12
    for row in on_disk.itertuples():
        assert row.transcript and row.transcript == normalize_transcript(row.transcript)
        assert Path(row.audio_path).parent == out / "wav"
        assert audio_info(row.audio_path).duration == pytest.approx(row.duration)
    assert on_disk["speaker"].nunique() > 6
    voices = {s.voice.lower() for s in other_speakers(2, N_SPEAKERS, prefix="P")}
    assert len(voices) > 30 and not voices & DEMO_VOICES


def test_pretrain_corpus_reads_the_given_sentence_bank(tmp_path):
    lines = iter(["Hello there.", "We'll see, Anna."])
    manifest = write_pretrain_corpus(
        tmp_path / "p", seed=2, n_utterances=2, sentence=lambda rng: next(lines)
    )
    assert manifest["transcript"].tolist() == ["HELLO THERE", "WE'LL SEE ANNA"]
    assert (manifest["duration"] > 0.5).all()


def test_embedded_corpus_needs_its_config_keys(tmp_path):
    with pytest.raises(KeyError, match="musan_file_seconds"):
        write_embedded_corpus(
            tmp_path / "i",
            tmp_path / "m",
            {"seed": 1, "utterances_per_emotion": 1, "musan_files_per_type": 2},
        )
