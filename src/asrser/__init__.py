"""asrser: joint ASR and speech-emotion recognition under noise, as a Snakemake study."""

__version__ = "0.1.0"

EMOTIONS = ("ang", "hap", "sad", "neu")
TEST_CONDITIONS = ("clean", "noise15", "noise5", "music15", "music5", "speech15", "speech5")
TRAIN_CONDITIONS = ("clean", "noisy")
MODEL_TYPES = ("asr", "ser", "joint")
NOISE_TYPES = ("noise", "music", "speech")
SAMPLE_RATE = 16_000
# Written into both roots of the synthetic corpus: the workflow may replace a root holding it,
# and refuses to replace any other folder (asrser.common.corpus_roots.check_synthetic_roots).
SYNTHETIC_MARKER = ".asrser-synthetic"

# Columns of every evaluation's predictions.csv (written by asrser.evaluation.evaluate, read by asrser.report).
PREDICTION_COLUMNS = (
    "utt_id",
    "speaker",
    "fold",
    "ref_transcript",
    "hyp_transcript",
    "ref_emotion",
    "pred_emotion",
    *(f"prob_{emotion}" for emotion in EMOTIONS),
)
