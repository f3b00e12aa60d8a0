"""Noisy corpora: SNR definition, looping and cutting, babble, clipping, determinism, recreation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from asrser import NOISE_TYPES, SAMPLE_RATE
from asrser.data import mixing
from asrser.data.audio import read_audio, write_audio
from asrser.data.corpora import CORPUS_COLUMNS, build_corpus, recreate_mixture

NOISY_TEST_CORPORA = ("noise15", "noise5", "music15", "music5", "speech15", "speech5")
SNR_TOLERANCE_DB = 0.05
BABBLE = (3, 4)
SNR_RANGE = (5.0, 35.0)


def speechlike(rng: np.random.Generator, seconds: float, rms: float) -> np.ndarray:
    """A voiced-sounding signal: harmonics of a wandering pitch under a syllable envelope."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pitch = 120 + 40 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t)
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = 0.2 + np.abs(np.sin(2 * np.pi * rng.uniform(2, 4) * t))
    x = voiced * envelope
    return (x * rms / np.sqrt(np.mean(x**2))).astype(np.float32)


def noiselike(rng: np.random.Generator, seconds: float, rms: float) -> np.ndarray:
    x = rng.standard_normal(int(seconds * SAMPLE_RATE))
    return (x * rms / np.sqrt(np.mean(x**2))).astype(np.float32)


def make_inputs(root, n_utterances: int = 6, loud: bool = True):
    """Small IEMOCAP and MUSAN manifests (PLAN.md columns) over numpy audio written as wav."""
    rng = np.random.default_rng(123)
    rows = []
    for i in range(n_utterances):
        speaker = ("Ses01F", "Ses01M")[i % 2]
        utt_id = f"{speaker}_impro01_{speaker[-1]}{i:03d}"
        audio = speechlike(rng, rng.uniform(1.0, 2.0), rms=rng.uniform(0.03, 0.1))
        if loud and i == 0:
            audio = speechlike(rng, 1.5, rms=0.3)
            audio *= np.float32(0.97 / np.max(np.abs(audio)))  # peaks near full scale: will clip
        path = root / "iemocap" / f"{utt_id}.wav"
        write_audio(path, audio)
        rows.append(
            {
                "utt_id": utt_id,
                "session": 1,
                "speaker": speaker,
                "gender": speaker[-1],
                "emotion": ("ang", "hap", "sad", "neu")[i % 4],
                "transcript": "HELLO THERE",
                "audio_path": str(path),
                "duration": len(audio) / SAMPLE_RATE,
                "sample_rate": SAMPLE_RATE,
            }
        )
    musan = []
    for noise_type in NOISE_TYPES:
        # Files of 0.6 s (looped under 1-2 s utterances) and 3 s (cut); the test speech pool has
        # two files, fewer than the babble talkers, so talkers repeat there.
        for pool, seconds in (("train", (0.6, 3.0, 3.0)), ("test", (0.6, 3.0))):
            for j, length in enumerate(seconds):
                maker = noiselike if noise_type == "noise" else speechlike
                audio = maker(rng, length, rms=rng.uniform(0.02, 0.2))
                path = root / "musan" / noise_type / f"{pool}-{j}.wav"
                write_audio(path, audio)
                musan.append(
                    {
                        "type": noise_type,
                        "subset": "fixture",
                        "name": f"{pool}-{j}",
                        "source_path": str(path),
                        "audio_path": str(path),
                        "duration": len(audio) / SAMPLE_RATE,
                        "orig_sample_rate": SAMPLE_RATE,
                        "orig_channels": 1,
                        "converted": False,
                        "pool": pool,
                    }
                )
    return pd.DataFrame(rows), pd.DataFrame(musan)


def build(iemocap, musan, corpus, out_root, threads=1, audio_format="flac", seed=7):
    return build_corpus(
        iemocap,
        musan,
        corpus,
        out_root / corpus,
        seed=seed,
        snr_range=SNR_RANGE,
        babble_talkers=BABBLE,
        audio_format=audio_format,
        threads=threads,
        manifest_path=out_root / f"{corpus}.csv",
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every corpus built once (one worker), with its inputs."""
    root = tmp_path_factory.mktemp("corpora")
    iemocap, musan = make_inputs(root)
    out = root / "out"
    manifests = {
        corpus: build(iemocap, musan, corpus, out)
        for corpus in ("clean", *NOISY_TEST_CORPORA, "train_noisy")
    }
    return iemocap, musan, out, manifests


# --- the mixing math -------------------------------------------------------------------------


def test_loop_or_cut_cuts_inside_and_loops_around():
    noise = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(mixing.loop_or_cut(noise, 4, 3), [3, 4, 5, 6])
    looped = mixing.loop_or_cut(noise, 25, 7)
    np.testing.assert_array_equal(looped, (7 + np.arange(25)) % 10)
    with pytest.raises(ValueError, match="offset"):
        mixing.loop_or_cut(noise, 4, 10)


def test_offsets_are_seeded_and_keep_a_cut_inside_the_file():
    draws = [mixing.draw_offset(np.random.default_rng(5), 1000, 300) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = np.random.default_rng(0)
    cut = [mixing.draw_offset(rng, 1000, 300) for _ in range(500)]
    assert min(cut) >= 0 and max(cut) <= 700 and len(set(cut)) > 100
    looped = [mixing.draw_offset(rng, 100, 300) for _ in range(500)]
    assert min(looped) >= 0 and max(looped) <= 99


def textbook_snr_db(speech: np.ndarray, written: np.ndarray) -> float:
    """SNR as the paper means it, computed here rather than by the module under test: mean
    square of the speech in the file against mean square of everything else in it."""
    speech = speech.astype(np.float64)
    noise = written.astype(np.float64) / 32768.0 - speech
    return float(10.0 * np.log10(np.mean(speech**2) / np.mean(noise**2)))


@pytest.mark.parametrize("target", [-5.0, 0.0, 5.0, 15.0, 35.0])
def test_mix_at_snr_hits_the_target(target):
    rng = np.random.default_rng(1)
    speech = speechlike(rng, 2.0, rms=0.05)
    noise = noiselike(rng, 2.0, rms=0.3)
    mix = mixing.mix_at_snr(speech, noise, target)
    assert mix.samples.dtype == np.int16
    assert abs(mix.realised_snr_db - target) < SNR_TOLERANCE_DB
    written_speech = speech * np.float32(mix.speech_gain)
    assert abs(textbook_snr_db(written_speech, mix.samples) - target) < SNR_TOLERANCE_DB
    # The noise actually added (unquantised) has exactly the target SNR.
    added = noise * np.float32(mix.noise_gain)
    assert abs(mixing.snr_db(speech * np.float32(mix.speech_gain), added) - target) < 1e-3


def test_clipping_mixture_is_scaled_as_a_whole_keeping_the_snr():
    rng = np.random.default_rng(2)
    speech = speechlike(rng, 1.0, rms=0.3)
    speech *= np.float32(0.99 / np.max(np.abs(speech)))
    noise = noiselike(rng, 1.0, rms=0.1)
    mix = mixing.mix_at_snr(speech, noise, 0.0)
    assert mix.clip_rescaled
    assert mix.speech_gain < 1.0
    assert np.max(np.abs(mix.samples.astype(np.int32))) <= 32768
    assert abs(mix.realised_snr_db) < SNR_TOLERANCE_DB
    written_speech = speech * np.float32(mix.speech_gain)
    assert abs(textbook_snr_db(written_speech, mix.samples)) < SNR_TOLERANCE_DB
    quiet = mixing.mix_at_snr(speech * np.float32(0.1), noise, 20.0)
    assert not quiet.clip_rescaled and quiet.speech_gain == 1.0


def test_babble_sums_unit_rms_talkers():
    rng = np.random.default_rng(3)
    talkers = [speechlike(rng, 1.0, rms=r) for r in (0.01, 0.1, 0.5)]
    babble = mixing.combine_segments(talkers, "speech")
    expected = sum(t / np.sqrt(np.mean(t.astype(np.float64) ** 2)) for t in talkers)
    np.testing.assert_allclose(babble, expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="one file"):
        mixing.combine_segments(talkers, "music")


def test_talkers_are_distinct_while_the_pool_allows():
    rng = np.random.default_rng(4)
    many = mixing.choose_talkers(rng, 10, 7)
    assert len(many) == len(set(many)) == 7 and all(0 <= i < 10 for i in many)
    few = mixing.choose_talkers(rng, 2, 5)
    assert len(few) == 5 and set(few) == {0, 1}


def test_silent_speech_and_silent_noise_fail_naming_what(tmp_path):
    rng = np.random.default_rng(5)
    speech = speechlike(rng, 1.0, rms=0.1)
    silence = np.zeros_like(speech)
    with pytest.raises(mixing.MixingError, match="utterance X1.*speech is silent"):
        mixing.mix_at_snr(silence, speech, 10.0, what="utterance X1")
    with pytest.raises(mixing.MixingError, match="utterance X2.*noise segment is silent"):
        mixing.mix_at_snr(speech, silence, 10.0, what="utterance X2")
    silent_file = tmp_path / "quiet.wav"
    write_audio(silent_file, np.zeros(8000, dtype=np.float32))
    with pytest.raises(mixing.MixingError, match="quiet.wav: noise is silent"):
        mixing.draw_noise_segment(rng, mixing.NoiseBank(), str(silent_file), 4000)


def test_a_silent_pool_file_is_passed_over_for_the_next(tmp_path):
    rng = np.random.default_rng(3)
    silent, audible = str(tmp_path / "silent.wav"), str(tmp_path / "audible.wav")
    write_audio(silent, np.zeros(8000, dtype=np.float32))
    write_audio(audible, noiselike(rng, 0.5, rms=0.1))
    bank = mixing.NoiseBank()
    path, offset, segment, passed_over = mixing.draw_from_pool(
        rng, bank, [silent, audible], 0, 4000
    )
    assert (path, passed_over) == (audible, [silent])
    np.testing.assert_array_equal(segment, bank.segment(audible, offset, 4000))
    # The pool wraps around: starting at its last file reaches the first.
    assert mixing.draw_from_pool(rng, bank, [audible, silent], 1, 4000)[0] == audible
    with pytest.raises(mixing.MixingError, match="all 2 noise files of the pool are silent"):
        mixing.draw_from_pool(rng, bank, [silent, silent], 0, 4000)


def test_noise_bank_decodes_each_file_once_and_reads_long_files_in_parts(tmp_path):
    rng = np.random.default_rng(6)
    audio = noiselike(rng, 3.0, rms=0.1)
    path = str(tmp_path / "n.flac")
    write_audio(path, audio)
    bank = mixing.NoiseBank()
    first = bank.segment(path, 100, 20000)
    for offset in range(0, 40000, 1000):
        bank.segment(path, offset, 16000)
    assert bank.files_read == 1
    streaming = mixing.NoiseBank(max_cached_seconds=1.0)  # the file counts as long: partial reads
    np.testing.assert_array_equal(streaming.segment(path, 100, 20000), first)
    np.testing.assert_array_equal(
        streaming.segment(path, 40000, 20000), bank.segment(path, 40000, 20000)
    )
    assert streaming.files_read == 1  # only the wrapped segment needed the whole file


# --- corpora ---------------------------------------------------------------------------------


@pytest.mark.parametrize("corpus", [*NOISY_TEST_CORPORA, "train_noisy"])
def test_realised_snr_is_on_target_also_read_back(built, corpus):
    iemocap, _, out, manifests = built
    manifest = manifests[corpus]
    assert list(manifest.columns) == CORPUS_COLUMNS
    speech_paths = dict(zip(iemocap["utt_id"], iemocap["audio_path"], strict=True))
    assert (abs(manifest["realised_snr_db"] - manifest["target_snr_db"]) < SNR_TOLERANCE_DB).all()
    for row in manifest.itertuples():
        written, sr = sf.read(row.audio_path, dtype="float32")
        assert sr == SAMPLE_RATE and len(written) == round(row.duration * SAMPLE_RATE)
        speech = read_audio(speech_paths[row.utt_id]) * np.float32(row.speech_gain)
        read_back = mixing.realised_snr_db(speech, written)
        assert abs(read_back - row.target_snr_db) < SNR_TOLERANCE_DB
        assert abs(read_back - row.realised_snr_db) < 1e-6


@pytest.mark.parametrize("corpus", NOISY_TEST_CORPORA)
def test_test_corpora_use_their_type_snr_and_the_test_pool(built, corpus):
    _, musan, _, manifests = built
    test_pool = set(musan.loc[musan["pool"] == "test", "audio_path"])
    manifest = manifests[corpus]
    noise_type = corpus.rstrip("0123456789")
    assert (manifest["noise_type"] == noise_type).all()
    assert (manifest["target_snr_db"] == float(corpus[len(noise_type) :])).all()
    for files in manifest["noise_files"]:
        assert set(files.split(";")) <= test_pool


def test_train_noisy_draws_type_and_snr_from_the_train_pool(built):
    _, musan, _, manifests = built
    manifest = manifests["train_noisy"]
    train_pool = musan[musan["pool"] == "train"]
    assert manifest["target_snr_db"].between(*SNR_RANGE).all()
    assert manifest["target_snr_db"].nunique() == len(manifest)
    for row in manifest.itertuples():
        allowed = set(train_pool.loc[train_pool["type"] == row.noise_type, "audio_path"])
        assert set(row.noise_files.split(";")) <= allowed


def test_babble_has_the_configured_talker_count(built):
    _, musan, _, manifests = built
    rows = pd.concat([manifests["speech5"], manifests["speech15"], manifests["train_noisy"]])
    rows = rows[rows["noise_type"] == "speech"]
    assert len(rows) >= 12
    counts = []
    for row in rows.itertuples():
        files = row.noise_files.split(";")
        offsets = row.noise_offsets.split(";")
        assert BABBLE[0] <= len(files) <= BABBLE[1] and len(offsets) == len(files)
        pool = musan[(musan["type"] == "speech") & musan["audio_path"].isin(files)]["pool"]
        pool_size = ((musan["type"] == "speech") & (musan["pool"] == pool.iloc[0])).sum()
        assert len(set(files)) == min(len(files), pool_size)  # distinct where possible
        counts.append(len(files))
    assert set(counts) == set(range(BABBLE[0], BABBLE[1] + 1))


def test_short_noise_is_looped_and_long_noise_cut(built):
    _, musan, _, manifests = built
    frames = dict(zip(musan["audio_path"], (musan["duration"] * SAMPLE_RATE).round(), strict=True))
    looped = cut = 0
    for manifest in manifests.values():
        for row in manifest[manifest["noise_type"] != ""].itertuples():
            length = round(row.duration * SAMPLE_RATE)
            for path, offset in zip(
                row.noise_files.split(";"), row.noise_offsets.split(";"), strict=True
            ):
                if frames[path] < length:
                    looped += 1
                    assert 0 <= int(offset) < frames[path]
                else:
                    cut += 1
                    assert 0 <= int(offset) <= frames[path] - length
    assert looped > 5 and cut > 5


def test_clipping_mixtures_are_counted_and_keep_their_snr(built):
    iemocap, _, _, manifests = built
    loud = iemocap["utt_id"].iloc[0]
    clipped = manifests["noise5"].set_index("utt_id").loc[loud]
    assert clipped["clip_rescaled"] and clipped["speech_gain"] < 1.0
    assert abs(clipped["realised_snr_db"] - 5.0) < SNR_TOLERANCE_DB
    assert not manifests["noise5"]["clip_rescaled"].all()


def test_clean_corpus_points_at_the_originals(built):
    iemocap, _, out, manifests = built
    clean = manifests["clean"]
    assert list(clean["audio_path"]) == list(iemocap["audio_path"])
    assert (out / "clean").is_dir() and not any((out / "clean").iterdir())
    assert (clean["noise_type"] == "").all() and clean["realised_snr_db"].isna().all()


@pytest.mark.parametrize("corpus", [*NOISY_TEST_CORPORA, "train_noisy"])
def test_recreate_mixture_reproduces_the_written_audio(built, corpus):
    iemocap, _, out, _ = built
    speech_paths = dict(zip(iemocap["utt_id"], iemocap["audio_path"], strict=True))
    manifest = pd.read_csv(out / f"{corpus}.csv", keep_default_na=False)  # as written on disk
    bank = mixing.NoiseBank()
    for row in manifest.to_dict("records"):
        written, _ = sf.read(row["audio_path"], dtype="int16")
        np.testing.assert_array_equal(
            recreate_mixture(row, speech_paths[row["utt_id"]], bank), written
        )


def test_same_seed_same_bytes_for_any_worker_count(built, tmp_path):
    iemocap, musan, out, manifests = built
    for corpus in ("speech5", "train_noisy"):
        again = build(iemocap.iloc[::-1], musan.iloc[::-1], corpus, tmp_path, threads=2)
        again = again.set_index("utt_id").loc[manifests[corpus]["utt_id"]].reset_index()
        pd.testing.assert_frame_equal(
            again.drop(columns="audio_path"), manifests[corpus].drop(columns="audio_path")
        )
        for utt_id in manifests[corpus]["utt_id"]:
            name = f"{utt_id}.flac"
            assert (tmp_path / corpus / name).read_bytes() == (out / corpus / name).read_bytes()
    other_seed = build(iemocap, musan, "train_noisy", tmp_path / "seed8", seed=8)
    assert not np.allclose(other_seed["target_snr_db"], manifests["train_noisy"]["target_snr_db"])


def test_wav_output_and_atomic_replacement(built, tmp_path):
    iemocap, musan, _, _ = built
    (tmp_path / "music5").mkdir()
    (tmp_path / "music5" / "stale.flac").write_bytes(b"left from an earlier run")
    manifest = build(iemocap, musan, "music5", tmp_path, audio_format="wav")
    assert sorted(p.name for p in (tmp_path / "music5").iterdir()) == sorted(
        f"{u}.wav" for u in iemocap["utt_id"]
    )
    assert sf.info(manifest["audio_path"].iloc[0]).subtype == "PCM_16"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_bad_inputs_fail_early_and_clearly(built, tmp_path):
    iemocap, musan, _, _ = built
    with pytest.raises(ValueError, match="unknown corpus 'noise'"):
        build(iemocap, musan, "noise", tmp_path)
    no_test_music = musan[~((musan["type"] == "music") & (musan["pool"] == "test"))]
    with pytest.raises(ValueError, match="no 'music' files in pool 'test'"):
        build(iemocap, no_test_music, "music15", tmp_path)
    missing = musan.assign(audio_path=musan["audio_path"].str.replace("test-0", "gone"))
    with pytest.raises(FileNotFoundError, match="MUSAN noise file.*gone.wav"):
        build(iemocap, missing, "noise5", tmp_path)
    with pytest.raises(ValueError, match="data.audio_format"):
        build(iemocap, musan, "noise5", tmp_path, audio_format="mp3")
    with pytest.raises(ValueError, match="lacks columns"):
        build(iemocap.drop(columns="emotion"), musan, "noise5", tmp_path)
    assert not (tmp_path / "noise5").exists() and not (tmp_path / "noise5.csv").exists()


@pytest.mark.parametrize("threads", [1, 2])
def test_a_silent_musan_file_is_passed_over_and_reported(built, tmp_path, caplog, threads):
    """A digitally silent noise file costs the corpus that noise, not the corpus."""
    iemocap, musan, _, _ = built
    silent = tmp_path / "silent.wav"
    write_audio(silent, np.zeros(32000, dtype=np.float32))
    quiet = musan.copy()
    row = quiet.index[(quiet["type"] == "noise") & (quiet["pool"] == "test")][0]
    quiet.loc[row, "audio_path"] = str(silent)
    manifest = build(iemocap, quiet, "noise5", tmp_path, threads=threads)
    assert len(manifest) == len(iemocap) and str(silent) not in set(manifest["noise_files"])
    assert "corpus noise5: 1 noise file(s) were silent in 10 random segments" in caplog.text
    assert f"{silent} (" in caplog.text
    speech_paths = dict(zip(iemocap["utt_id"], iemocap["audio_path"], strict=True))
    for row in manifest.itertuples():  # the rows still recreate their audio exactly
        recreated = recreate_mixture(row._asdict(), speech_paths[row.utt_id])
        np.testing.assert_array_equal(recreated, sf.read(row.audio_path, dtype="int16")[0])


def test_silent_utterance_names_the_utterance(built, tmp_path):
    iemocap, musan, _, _ = built
    silent = tmp_path / "silent.wav"
    write_audio(silent, np.zeros(16000, dtype=np.float32))
    bad = iemocap.copy()
    bad.loc[2, "audio_path"] = str(silent)
    with pytest.raises(mixing.MixingError, match=f"{bad.loc[2, 'utt_id']}.*speech is silent"):
        build(bad, musan, "noise15", tmp_path)
    assert not (tmp_path / "noise15").exists() and not (tmp_path / "noise15.csv").exists()
