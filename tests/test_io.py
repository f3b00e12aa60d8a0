"""Output helpers: every file written atomically, JSON strict."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from asrser.io import write_json


def _refuse(constant: str):
    raise ValueError(f"non-standard JSON constant {constant}")


def test_json_is_strict_with_undefined_figures_as_null(tmp_path):
    """A WER over no reference words is NaN in Python; the file says null, which any JSON
    parser reads (NaN is a Python extension that jq and JavaScript refuse)."""
    path = tmp_path / "metrics.json"
    write_json(path, {"wer": math.nan, "range": (np.float64("inf"), 0.5), "nested": {"n": 3}})
    loaded = json.loads(path.read_text(), parse_constant=_refuse)
    assert loaded == {"wer": None, "range": [None, 0.5], "nested": {"n": 3}}
    with pytest.raises(ValueError, match="non-standard"):
        json.loads('{"wer": NaN}', parse_constant=_refuse)
    assert not list(tmp_path.glob(".*"))  # no temporary file left beside it
