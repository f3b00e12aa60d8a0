"""Generic building blocks: atomic file output, logs, configuration, names, provenance."""
