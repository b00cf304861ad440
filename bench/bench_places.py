"""Accuracy of the place extractor (places.extract_place) on the labelled reports.

    python bench/bench_places.py            figures for bench/RESULTS.md
    python bench/bench_places.py --misses   and every report it got wrong

Scored over words (case and punctuation aside), summed over all reports:
precision = words extracted that belong to the labelled place / words extracted;
recall    = words of labelled places that were extracted / words labelled.
Also: exact (the whole phrase right, or rightly none) and how often a place was
found when there is one, and none when there is none.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from smsbridge.triage.gazetteer import DEFAULT as CITY
from smsbridge.triage.places import extract_place

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
# places.tsv: the set the rules were written against; places_holdout.tsv: written after,
# never tuned on, so its figures are the honest ones.
SETS = ("places.tsv", "places_holdout.tsv")


def labelled(path: Path) -> list[tuple[str, str | None]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, _, place = line.partition("\t")
        rows.append((text, place.strip() or None))
    return rows


def _words(text: str | None) -> list[str]:
    return re.findall(r"\w+", (text or "").casefold())


@dataclass(frozen=True)
class Score:
    reports: int
    with_place: int
    precision: float
    recall: float
    exact: float
    found_when_there: float
    none_when_none: float
    misses: tuple[tuple[str, str | None, str | None], ...]

    @property
    def f1(self) -> float:
        return 2 * self.precision * self.recall / (self.precision + self.recall)


def score(rows: list[tuple[str, str | None]]) -> Score:
    extracted = right = wanted = exact = found = with_place = nones = nones_right = 0
    misses = []
    for text, gold in rows:
        got = extract_place(text, CITY)  # as the daemon runs it, with the city's names
        g, p = _words(gold), _words(got)
        common = sum(min(g.count(w), p.count(w)) for w in set(p))
        extracted += len(p)
        wanted += len(g)
        right += common
        if g == p:
            exact += 1
        else:
            misses.append((text, gold, got))
        if gold:
            with_place += 1
            found += got is not None
        else:
            nones += 1
            nones_right += got is None
    return Score(len(rows), with_place, right / extracted, right / wanted, exact / len(rows),
                 found / with_place, nones_right / nones if nones else 1.0, tuple(misses))


def main() -> int:
    for name in SETS:
        result = score(labelled(DATA / name))
        print(f"{name}: {result.reports} reports ({result.with_place} name a place)")
        print(f"  word precision {result.precision:.3f}  word recall {result.recall:.3f}  "
              f"F1 {result.f1:.3f}")
        print(f"  exact phrase {result.exact:.3f}  found when there is one "
              f"{result.found_when_there:.3f}  none when there is none "
              f"{result.none_when_none:.3f}")
        if "--misses" in sys.argv:
            for text, gold, got in result.misses:
                print(f"    {text}\n      want: {gold}\n      got:  {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
