"""What every report figure shares: colours, labels, tick labels, legend and bar labels."""

from __future__ import annotations

import numpy as np

from asrser import TEST_CONDITIONS
from asrser.report.table1 import CONDITION_LABELS

FIGURE_FORMATS = ("png", "pdf")
DPI = 150
# Colour-blind-safe (Okabe-Ito), one colour per compared model, fixed across figures.
SERIES_COLOURS = {
    ("baseline", "noisy"): "#E69F00",
    ("joint", "clean"): "#56B4E9",
    ("joint", "noisy"): "#009E73",
}
SERIES_LABELS = {
    ("baseline", "noisy"): "Baseline, trained on noise",
    ("joint", "clean"): "Joint, trained on clean",
    ("joint", "noisy"): "Joint, trained on noise",
}
MODEL_COLOURS = {"asr": "#E69F00", "ser": "#E69F00", "joint": "#009E73"}
MODEL_LABELS = {"asr": "ASR baseline", "ser": "SER baseline", "joint": "Joint"}


def tick_labels() -> list[str]:
    # "SNR 15 Noise" -> "SNR 15\nNoise": two short lines stay readable without rotation.
    labels = []
    for condition in TEST_CONDITIONS:
        words = CONDITION_LABELS[condition].split(" ")
        labels.append(
            " ".join(words[:2]) + "\n" + " ".join(words[2:]) if len(words) > 2 else words[0]
        )
    return labels


def legend(ax, **kwargs) -> None:
    # A panel whose evaluations are all missing has nothing to label.
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


def bar_text(value: float) -> str:
    if not np.isfinite(value):
        return ""
    return "0.0" if round(value, 1) == 0 else f"{value:+.1f}"
