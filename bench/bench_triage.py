"""Intake's triage: its cost per report, and how often it is right.

    python bench/bench_triage.py                 reports per second
    python bench/bench_triage.py --accuracy      category and place on the labelled sets
    python bench/bench_triage.py --accuracy --misses

Pure functions only (triage.py), on the labelled reports of tests/data/places.tsv:
``classify`` (category and place) per report, and ``relate`` against a window of
open reports of the same category (what the bridge reads with ``recent_open``), at
the sizes a busy line sees in three hours. Prints reports per second.

``--accuracy`` scores tests/data/triage.tsv (tuned on) and triage_holdout.tsv (never
tuned on: its figures are the honest ones): per category, precision = reports given
the category that have it / reports given it, recall = reports that have it and were
given it / reports that have it; and the place as bench_places.py scores it.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from smsbridge.config.sections import Config
from smsbridge.triage.rules import Report, Rules, classify, relate

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "places.tsv"
TRIAGE_SETS = ("triage.tsv", "triage_holdout.tsv")
Miss = tuple[str, str, str]  # text, category given, category labelled


def labelled(path: Path) -> list[tuple[str, str, str | None]]:
    """(text, category, place or None) per labelled report."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, category, place = [*line.split("\t"), "", ""][:3]
        rows.append((text, category.strip(), place.strip() or None))
    return rows


def default_rules() -> Rules:
    config = Config()
    return Rules.from_section(config.categories, config.desk.places)


def category_scores(rows: list[tuple[str, str, str | None]], rules: Rules
                    ) -> tuple[float, dict[str, tuple[float, float, int]], list[Miss]]:
    """Accuracy, per category (precision, recall, reports labelled with it), misses."""
    got = [(classify(text, rules).category, want, text) for text, want, _ in rows]
    per = {}
    for category in sorted({w for _, w, _ in got} | {g for g, _, _ in got}):
        given = [w for g, w, _ in got if g == category]
        having = [g for g, w, _ in got if w == category]
        precision = sum(w == category for w in given) / len(given) if given else 1.0
        recall = sum(g == category for g in having) / len(having) if having else 1.0
        per[category] = (precision, recall, len(having))
    misses = [(text, g, w) for g, w, text in got if g != w]
    return sum(g == w for g, w, _ in got) / len(got), per, misses


def accuracy(show_misses: bool) -> None:
    sys.path.insert(0, str(DATA.parent.parent.parent / "bench"))
    from bench_places import score

    rules = default_rules()
    for name in TRIAGE_SETS:
        rows = labelled(DATA.parent / name)
        right, per, misses = category_scores(rows, rules)
        print(f"{name}: {len(rows)} reports; category right {right:.1%}")
        print("| category | reports | precision | recall |\n| --- | ---: | ---: | ---: |")
        for category, (precision, recall, n) in per.items():
            print(f"| {category} | {n} | {precision:.2f} | {recall:.2f} |")
        found = [(text, place) for text, _, place in rows]
        places = score([(t, p) for t, p in found])
        print(f"place: word precision {places.precision:.3f}, recall {places.recall:.3f}, "
              f"exact {places.exact:.3f}")
        if show_misses:
            for text, got, want in misses:
                print(f"  {text!r}: {got}, labelled {want}")


def rate(fn, items, seconds: float = 2.0) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for item in items:
            fn(item)
        done += len(items)
    return done / (time.perf_counter() - start)


def main() -> int:
    if "--accuracy" in sys.argv:
        accuracy("--misses" in sys.argv)
        return 0
    texts = [line.split("\t")[0] for line in DATA.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    rules = default_rules()
    print(f"classify (category + place): {rate(lambda t: classify(t, rules), texts):,.0f} "
          "reports/s")
    random.seed(1)
    found = {t: classify(t, rules) for t in texts}
    for window in (30, 100, 300):
        recent = [Report(i, found[t].category, found[t].place, t)
                  for i, t in enumerate(random.choices(texts, k=window), start=1)]
        speed = rate(lambda t, recent=recent: relate(found[t], t, recent), texts)
        print(f"relate against {window} open reports of its category: {speed:,.0f} reports/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
