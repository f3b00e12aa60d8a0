"""Synthetic predictions CSVs in the evaluation stage's layout, for the results-stage tests."""

from pathlib import Path

import numpy as np
import pandas as pd

from asrser import EMOTIONS, MODEL_TYPES, PREDICTION_COLUMNS, TEST_CONDITIONS, TRAIN_CONDITIONS
from asrser.common.run_names import run_name

FOLDS = [f"Ses0{session}{gender}" for session in range(1, 6) for gender in "FM"]

VOCABULARY = ("the", "a", "of", "you", "i", "it", "what", "that", "know", "yeah", "no", "okay")


def write_synthetic_predictions(
    root: Path,
    per_fold: int = 3,
    seed: int = 0,
    training_seeds=(0,),
    joint_error=0.7,
    models=MODEL_TYPES,
    alphas=(None,),
) -> list[Path]:
    """10 folds x 3 models x 2 trains x 7 conditions of small predictions CSVs, per training
    seed (seed s > 0 in run folders {model}-{train}-seed{s}) and, for the joint model, per alpha
    (None: the main run; others in -alpha{a} folders). The joint model makes `joint_error` times
    the baselines' word errors, more the further its alpha is from 0.1."""
    rng = np.random.default_rng(seed)
    utterances = []
    for fold in FOLDS:
        for k in range(per_fold):
            words = rng.choice(VOCABULARY, size=rng.integers(2, 8)).tolist()
            reference = " ".join(words).capitalize() + "." + (" [LAUGHTER]" if k == 0 else "")
            emotion = EMOTIONS[(k + len(fold)) % 4]
            utterances.append((f"{fold}_{k:03d}", fold, words, reference, emotion))
    paths = []
    runs = [
        (s, m, t, a)
        for s in training_seeds
        for m in models
        for t in TRAIN_CONDITIONS
        for a in (alphas if m == "joint" else (None,))
    ]
    for training_seed, model, train, alpha in runs:
        factor = joint_error * (1.0 + 2.0 * abs(alpha - 0.1) if alpha is not None else 1.0)
        for c, condition in enumerate(TEST_CONDITIONS):
            word_error = (0.1 + 0.05 * c) * (factor if model == "joint" else 1.0)
            for fold in FOLDS:
                rows = []
                for utt_id, speaker, words, reference, emotion in utterances:
                    if speaker != fold:
                        continue
                    hypothesis = " ".join(w if rng.random() > word_error else "uh" for w in words)
                    predicted = emotion if rng.random() > 0.3 else rng.choice(EMOTIONS)
                    probs = rng.dirichlet(np.ones(4)).round(4)
                    rows.append(
                        {
                            "utt_id": utt_id,
                            "speaker": speaker,
                            "fold": fold,
                            "ref_transcript": reference,
                            "hyp_transcript": "" if model == "ser" else hypothesis,
                            "ref_emotion": "" if model == "asr" else emotion,
                            "pred_emotion": "" if model == "asr" else predicted,
                        }
                        | {
                            f"prob_{e}": ("" if model == "asr" else p)
                            for e, p in zip(EMOTIONS, probs, strict=True)
                        }
                    )
                run = run_name(model, train, training_seed, alpha)
                path = root / run / fold / condition / "predictions.csv"
                path.parent.mkdir(parents=True, exist_ok=True)
                pd.DataFrame(rows, columns=list(PREDICTION_COLUMNS)).to_csv(path, index=False)
                paths.append(path)
    return paths
