"""What a report is about, and the open reports it may repeat (pure: no I/O, no clock).

- a **category** comes from keyword rules (the config's ``[categories]``): words and
  phrases matched on whole words after folding case, accents and stretched letters
  ("brooong" is "brong"); ``word*`` matches words starting with it. The category
  with the most matches wins, the config's order breaking ties; none is ``other``.
  The city's names (``[desk] places``, gazetteer.py) are looked past: "Stasiun
  Balapan" is a station, not a street race.
- its **place** is ``places.extract_place``'s, the city's names taken whole.
- two reports are **possibly the same incident** when they share a category and a
  place, or when their words are nearly the same (and name no two places).

``classify`` and ``relate`` are what intake calls for each new report.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from smsbridge.triage.gazetteer import DEFAULT, Gazetteer
from smsbridge.triage.places import extract_place, place_key, same_keys, same_place, words

OTHER = "other"


# --- categories -------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One category and its keywords, each a tuple of folded words; a last word ending
    in ``*`` matches any word starting with it. ``pattern`` finds them all in a text's
    words joined by spaces, longest first (one regex: a report is triaged in tens of
    microseconds, not a loop over every keyword at every word)."""

    category: str
    keywords: tuple[tuple[str, ...], ...]
    pattern: re.Pattern[str] = re.compile("(?!)")

    @classmethod
    def build(cls, category: str, keywords: tuple[tuple[str, ...], ...]) -> Rule:
        def word(w: str) -> str:
            return re.escape(w[:-1]) + "[a-z0-9]*" if w.endswith("*") else re.escape(w)

        phrases = sorted(keywords, key=len, reverse=True)
        body = "|".join(" ".join(map(word, phrase)) for phrase in phrases)
        return cls(category, keywords, re.compile(f"(?<![a-z0-9])(?:{body})(?![a-z0-9])"))


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...] = ()
    places: Gazetteer = DEFAULT

    @classmethod
    def from_mapping(cls, keywords: Mapping[str, Iterable[str]],
                     places: Iterable[str] | None = None) -> Rules:
        """``{"judi": ["judi", "sabung ayam", "togel*"], …}`` in priority order; a
        category with no keywords is left out. ``places``: the city's names (default:
        Surakarta's)."""
        built = []
        for category, phrases in keywords.items():
            parsed = tuple(p for p in (_phrase(k) for k in phrases) if p)
            if parsed:
                built.append(Rule.build(category, parsed))
        return cls(tuple(built), DEFAULT if places is None else _gazetteer(tuple(places)))

    @classmethod
    def from_section(cls, section: object, places: Iterable[str] | None = None) -> Rules:
        """From the config's ``[categories]`` (a dataclass: one list per category) and
        ``[desk] places``."""
        import dataclasses

        return cls.from_mapping({f.name: getattr(section, f.name)
                                 for f in dataclasses.fields(section)},  # type: ignore[arg-type]
                                places)

    @property
    def categories(self) -> tuple[str, ...]:
        return (*(r.category for r in self.rules), OTHER)


@functools.lru_cache(maxsize=8)
def _gazetteer(places: tuple[str, ...]) -> Gazetteer:
    return Gazetteer.of(places)


def _phrase(keyword: str) -> tuple[str, ...]:
    star = keyword.strip().endswith("*")
    parts = words(keyword)
    if parts and star:
        parts[-1] += "*"
    return tuple(parts)


def categorise(text: str, rules: Rules) -> str:
    """The category whose keywords cover most of the text's words ("mabuk lem" is
    two words of narkoba, "mabuk" one of miras); ``other`` for none."""
    joined = rules.places.without(" ".join(words(text)))
    best, best_hits = OTHER, 0
    for rule in rules.rules:
        hits = sum(m.group(0).count(" ") + 1 for m in rule.pattern.finditer(joined))
        if hits > best_hits:
            best, best_hits = rule.category, hits
    return best


def category_name(text: str) -> str:
    """A category as an operator types it ("Knalpot Brong", "parkir-liar") -> its key."""
    return "_".join(words(text))


# --- possibly the same incident ---------------------------------------------------------

_FILLER = frozenset({"ada", "di", "d", "yg", "yang", "pak", "tolong", "tlg", "mohon", "dan",
                     "ini", "itu", "lagi", "lg", "sudah", "sdh", "ya", "bgt", "banget"})


def similarity(a: str, b: str) -> float:
    """How much two texts share their words (Jaccard over words, fillers left out)."""
    return _jaccard(_telling(a), _telling(b))


@dataclass(frozen=True)
class Report:
    """What the related-report rule looks at in one report."""

    id: int
    category: str | None
    place: str | None
    text: str
    incident_id: int | None = None


@dataclass(frozen=True)
class Triage:
    """A new report's category, place, and the open case it may repeat."""

    category: str
    place: str | None
    related: Report | None = None

    @property
    def incident_id(self) -> int | None:
        if self.related is None:
            return None
        return self.related.incident_id or self.related.id


# The open reports of a window are the candidates of every report that follows them:
# their words are worked out once, not once per report.
@functools.lru_cache(maxsize=4096)
def _telling(text: str) -> frozenset[str]:
    return frozenset(w for w in words(text) if w not in _FILLER)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def why_related(new: Report, other: Report, *, min_similarity: float) -> str | None:
    """Why ``other`` may be the same incident as ``new``, or None."""
    return _why(new, other, same_place(new.place, other.place),
                similarity(new.text, other.text), min_similarity)


def _why(new: Report, other: Report, place: bool, alike: float, min_similarity: float
         ) -> str | None:
    if new.category and new.category == other.category and new.category != OTHER and place:
        return "same category and place"
    if new.place and other.place and not place:
        return None  # alike words about two places are two incidents
    if alike >= min_similarity:
        return "nearly the same words"
    return None


def find_related(new: Report, recent: Iterable[Report], *, min_similarity: float
                 ) -> Report | None:
    """The open report ``new`` most likely repeats: among those related, the most
    similar in words (the newest of equals). Each text is read once."""
    mine, my_place = _telling(new.text), place_key(new.place)
    best: tuple[float, int, Report] | None = None
    for other in recent:
        if other.id == new.id:
            continue
        alike = _jaccard(mine, _telling(other.text))
        place = same_keys(my_place, place_key(other.place))
        if _why(new, other, place, alike, min_similarity) is None:
            continue
        if best is None or (alike, other.id) > best[:2]:
            best = (alike, other.id, other)
    return best[2] if best else None


def classify(text: str, rules: Rules) -> Triage:
    """A new report's category and place (its related report comes with ``relate``)."""
    return Triage(categorise(text, rules), extract_place(text, rules.places))


def relate(found: Triage, text: str, recent: Iterable[Report], *,
           min_similarity: float = 0.6) -> Triage:
    """``found`` with the open report among ``recent`` it most likely repeats."""
    related = find_related(Report(0, found.category, found.place, text), recent,
                           min_similarity=min_similarity)
    return Triage(found.category, found.place, related)


def triage(text: str, rules: Rules, recent: Iterable[Report] = (), *,
           min_similarity: float = 0.6) -> Triage:
    """Category, place and possibly related open report of a new report's text."""
    return relate(classify(text, rules), text, recent, min_similarity=min_similarity)
