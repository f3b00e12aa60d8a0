"""Transcript normalisation, shared by CTC targets and WER scoring.

The paper's encoder (wav2vec2-large-960h-lv60-self) spells with upper-case letters, the apostrophe
and a word delimiter, so references are normalised to that alphabet:
  1. IEMOCAP's bracketed non-speech tokens ([LAUGHTER], [BREATHING], [GARBAGE], ...) are removed;
  2. upper case;
  3. every character other than A-Z and the apostrophe becomes a space (punctuation, digits and
     hyphens split words, as a reader would say them apart);
  4. apostrophes that do not sit inside a word are dropped; whitespace is collapsed.
"""

from __future__ import annotations

import re

_BRACKETED = re.compile(r"\[[^\]]*\]|<[^>]*>")
_NOT_ALPHABET = re.compile(r"[^A-Z']+")
_LOOSE_APOSTROPHE = re.compile(r"(?<![A-Z])'|'(?![A-Z])")
_SPACES = re.compile(r"\s+")

ALPHABET = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ'")


def normalize_transcript(text: str) -> str:
    """Normalise a transcript (reference or hypothesis) for CTC training and WER."""
    text = _BRACKETED.sub(" ", text).upper()
    text = _NOT_ALPHABET.sub(" ", text)
    text = _LOOSE_APOSTROPHE.sub("", text)
    return _SPACES.sub(" ", text).strip()
