"""Words as triage compares them: lower case, no accents, stretched letters once.

Below places.py and gazetteer.py, which both read words this way.
"""

from __future__ import annotations

import re
import unicodedata

# A word as the index and the rules see it.
WORD = re.compile(r"[a-z0-9]+")
_STRETCH = re.compile(r"([a-z])\1{2,}")


def fold(text: str) -> str:
    """Lower case, no accents, a letter stretched three times or more once ("mabuuuk" ->
    "mabuk"; a double letter is the word's own: "ganggu", "gg.")."""
    if text.isascii():  # most SMS: lower() is the whole fold, and much quicker
        return _STRETCH.sub(r"\1", text.lower())
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return _STRETCH.sub(r"\1", plain)


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


__all__ = ["WORD", "fold", "words"]
