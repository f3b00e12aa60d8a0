"""Data stage: corpus ingestion (IEMOCAP, MUSAN), noisy corpora and fold manifests."""
