"""Intake's triage cost per report: category, place, and the related-report check.

    python bench/bench_triage.py

Pure functions only (triage.py), on the labelled reports of tests/data/places.tsv:
``classify`` (category and place) per report, and ``relate`` against a window of
open reports of the same category (what the bridge reads with ``recent_open``), at
the sizes a busy line sees in three hours. Prints reports per second.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from smsbridge.config.sections import Config
from smsbridge.triage.rules import Report, Rules, classify, relate

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "places.tsv"


def rate(fn, items, seconds: float = 2.0) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for item in items:
            fn(item)
        done += len(items)
    return done / (time.perf_counter() - start)


def main() -> int:
    texts = [line.split("\t")[0] for line in DATA.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    rules = Rules.from_section(Config().categories)
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
