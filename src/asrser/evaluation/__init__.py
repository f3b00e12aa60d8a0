"""Scoring trained models: predictions, metrics, the text oracle, the start encoder."""
