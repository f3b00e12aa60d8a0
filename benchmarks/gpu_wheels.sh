#!/usr/bin/env bash
# Fills .whl/ (git-ignored) with the wheels benchmarks/gpu_check.sh installs on the device
# machine: the packages its image lacks (soundfile, jiwer, jsonschema) or holds in other versions
# (transformers, tokenizers, pandas), for its Python 3.12, at the versions of this project's
# .venv. Its own huggingface_hub (1.33 when last seen) is kept: transformers asks for >= 1.31, and
# this .venv's 2.x would need packages that image lacks (httpx2). About 34 MB; run here, where the
# package registries are reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(transformers tokenizers pandas soundfile cffi pycparser jiwer rapidfuzz
    jsonschema jsonschema-specifications referencing rpds-py)
pins=$(.venv/bin/python - "${packages[@]}" <<'PY'
import importlib.metadata as metadata, sys
print(" ".join(f"{name}=={metadata.version(name)}" for name in sys.argv[1:]))
PY
)
rm -rf .whl && mkdir .whl
# shellcheck disable=SC2086  # one argument per pin
.venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl $pins
du -sh .whl
