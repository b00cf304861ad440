"""What an operator types into a search, as SQLite's full-text index reads it.

Pure text work with no SQL of its own: cases, rows and the desk all build their
queries with it, so it sits below them (it used to live in cases.py, which made
rows.py import it back from inside a function).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from smsbridge.errors import InvalidInput
from smsbridge.i18n import _

# What the index's tokenizer (unicode61) keeps as a token: runs of letters and digits.
# Everything else separates tokens, so "RT-03" is indexed as "rt" and "03".
_TOKEN = re.compile(r"[^\W_]+")
_GAP = r"[\W_]+"


def _fold(text: str) -> str:
    """Case and diacritics away, as the index does (remove_diacritics 2)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _search_words(text: str) -> list[tuple[list[str], bool]]:
    """Each typed word as the index's tokens, and whether it ends in ``*`` (prefix)."""
    words = []
    for word in text.split():
        tokens = _TOKEN.findall(_fold(word))
        if tokens:
            words.append((tokens, word.endswith("*")))
    if not words:
        raise InvalidInput(_("nothing to search for in {typed!r}; give one or more words"
                             ).format(typed=text))
    return words


def fts_query(text: str) -> str:
    """Words as typed -> an FTS5 query matching cases that contain every word.

    Each token is quoted, so FTS5 syntax (``AND``, ``-``, ``:``, ``"``) in what an
    operator types cannot cause a syntax error; a trailing ``*`` keeps its meaning of
    "any word starting with". A word the tokenizer splits (``RT-03``, ``Al-Ikhlas``,
    ``LP-000042``) asks for each of its parts: the index keeps no positions
    (detail=column), so ``adjacent`` checks that they stand together.
    """
    terms = []
    for tokens, prefix in _search_words(text):
        terms += [f'"{t}"' for t in tokens]
        if prefix:
            terms[-1] += "*"
    return " ".join(terms)


def adjacent(text: str) -> Callable[[str], bool] | None:
    """For the words of ``text`` made of several tokens: whether a case's text has those
    tokens next to each other, with only spaces or punctuation between (``RT-03`` finds
    "RT 03" and "rt.03", not "RT 05 RW 03"). None when no word needs it."""
    patterns = [re.compile(r"(?<![^\W_])" + _GAP.join(map(re.escape, tokens))
                           + ("" if prefix else r"(?![^\W_])"))
                for tokens, prefix in _search_words(text) if len(tokens) > 1]
    if not patterns:
        return None

    def keep(case_text: str) -> bool:
        # Most texts are ASCII, where lower() is the whole fold: NFKD would cost more
        # than the match itself when a common pair ("RT", "03") selects many cases.
        folded = case_text.lower() if case_text.isascii() else _fold(case_text)
        return all(p.search(folded) for p in patterns)

    return keep
