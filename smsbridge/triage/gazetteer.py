"""The city's place names: the config's ``[desk] places`` (pure).

A landmark's name may hold a category's word: Surakarta's main station is Solo
*Balapan*, and "copet di stasiun balapan" is a pickpocket, not a street race. The
gazetteer finds the city's names in a report's words so that the category rules look
past them and the place extractor takes them whole ("pasar malam Ngarsopuro" is one
place: "malam" there is no time of day).

Names are matched on folded words (case, accents, stretched letters aside); a name
written with abbreviations is listed with them ("st balapan").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from smsbridge.triage.folding import fold
from smsbridge.triage.keywords import DEFAULT_PLACES

_WORD = re.compile(r"[a-z0-9]+")


def _folded_words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@dataclass(frozen=True)
class Gazetteer:
    """The city's names as folded word tuples, and one pattern that finds them in a
    text's folded words joined by spaces, longest first."""

    names: tuple[tuple[str, ...], ...] = ()
    pattern: re.Pattern[str] = field(default=re.compile("(?!)"), compare=False)

    @classmethod
    def of(cls, names: Iterable[str]) -> Gazetteer:
        parsed = tuple(dict.fromkeys(p for p in (tuple(_folded_words(n)) for n in names) if p))
        if not parsed:
            return cls()
        body = "|".join(re.escape(" ".join(p)) for p in sorted(parsed, key=len, reverse=True))
        return cls(parsed, re.compile(f"(?<![a-z0-9])(?:{body})(?![a-z0-9])"))

    def without(self, joined: str) -> str:
        """``joined`` (folded words joined by spaces) with the city's names blanked out,
        so no word of a name can match a category's keyword."""
        if not self.names:
            return joined
        return self.pattern.sub(lambda m: "_" * len(m.group(0)), joined)

    def spans(self, folded: list[str]) -> dict[int, int]:
        """Where names start among ``folded`` words: first word's index -> last's."""
        if not self.names or not folded:
            return {}
        joined = " ".join(folded)
        starts, at = {}, 0
        for i, word in enumerate(folded):
            starts[at] = i
            at += len(word) + 1
        found = {}
        for match in self.pattern.finditer(joined):
            first = starts.get(match.start())
            if first is not None:
                found[first] = first + match.group(0).count(" ")
        return found


DEFAULT = Gazetteer.of(DEFAULT_PLACES)
