"""Transcript normalisation, shared by CTC targets and WER scoring.

The paper's encoder (wav2vec2-large-960h-lv60-self) spells with upper-case letters, the apostrophe
and a word delimiter, so references are normalised to that alphabet:
  1. IEMOCAP's bracketed non-speech tokens ([LAUGHTER], [BREATHING], [GARBAGE], ...) are removed;
  2. Latin letters are folded to their base letter ("café" -> CAFE) and typographic apostrophes
     to the ASCII one ("don’t" -> DON'T), so a transcript typed with accents or smart quotes
     keeps its words instead of being split at them; upper case;
  3. every character other than A-Z and the apostrophe becomes a space (punctuation, digits and
     hyphens split words, as a reader would say them apart);
  4. apostrophes that do not sit inside a word are dropped; whitespace is collapsed.
"""

from __future__ import annotations

import re
import unicodedata

_BRACKETED = re.compile(r"\[[^\]]*\]|<[^>]*>")
_NOT_ALPHABET = re.compile(r"[^A-Z']+")
_LOOSE_APOSTROPHE = re.compile(r"(?<![A-Z])'|'(?![A-Z])")
_SPACES = re.compile(r"\s+")
# Right and left single quotes, modifier apostrophe, prime, fullwidth apostrophe, grave accent.
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc\u2032\uff07`", "'"))
# Letters NFKD does not decompose into a base letter and a mark.
_LIGATURES = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o",
                            "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D"})  # fmt: skip

ALPHABET = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ'")


def fold_to_ascii_letters(text: str) -> str:
    """Accented Latin letters to their base letters, typographic apostrophes to "'"."""
    text = text.translate(_APOSTROPHES).translate(_LIGATURES)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def unspellable_letters(text: str) -> str:
    """The letters of `text` (outside bracketed tokens) that normalisation cannot spell, in order.

    Non-Latin scripts and the replacement character of a file that was not UTF-8: they become
    word breaks, so an ingestion summary should name the transcripts holding them.
    """
    folded = fold_to_ascii_letters(_BRACKETED.sub(" ", text)).upper()
    return "".join(c for c in folded if (c.isalpha() or c == "\ufffd") and c not in ALPHABET)


def normalize_transcript(text: str) -> str:
    """Normalise a transcript (reference or hypothesis) for CTC training and WER."""
    text = fold_to_ascii_letters(_BRACKETED.sub(" ", text)).upper()
    text = _NOT_ALPHABET.sub(" ", text)
    text = _LOOSE_APOSTROPHE.sub("", text)
    return _SPACES.sub(" ", text).strip()
