"""The asrser-predict command: a trained model on new audio files."""
