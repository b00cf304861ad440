"""The scrub (fieldwork/scrub.py) measured: what of a reporter reaches a dispatch, what
ordinary words it costs, and how long it takes on hostile input.

    python bench/bench_scrub.py             figures for bench/RESULTS.md
    python bench/bench_scrub.py --misses    and every leak and every lost word

Leaks: tests/data/leaks.tsv, labelled attempts to carry a number or a name. A number
leaks when 6 digits in a row of it (after the ones it may start with: 0, 62) stand in
the scrubbed text, counting digit words and look-alike letters as digits; a name leaks
when any of its words stands there. Words lost: the words of ordinary reports
(tests/data/places*.tsv) that the scrub took away. Time: 100,000 characters of
brackets, digits and separators (what made the old scrub quadratic), best of five.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from smsbridge.fieldwork.scrub import DIGIT_WORDS
from smsbridge.fieldwork.texts import plain_gsm7, scrub

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
ORDINARY = ("places.tsv", "places_holdout.tsv")
_DIGIT_WORD = {w: str(i) for i, w in enumerate(
    ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"))}
_DIGIT_WORD.update({w: str(i) for i, w in enumerate(
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"))})
_DIGIT_WORD["kosong"] = "0"
assert set(_DIGIT_WORD) == DIGIT_WORDS
_LOOK = str.maketrans("OoIlSB", "001158")
HOSTILE = ("((((", "(0)-1. ", "0-" * 3 + "(", "1" * 6 + "\u200b", "+62 (", "0812-", "..((",
           "saya ")


def dispatched(text: str) -> str:
    """What of ``text`` a dispatch quotes."""
    return plain_gsm7(scrub(text))


def _as_digits(text: str) -> str:
    words = re.sub(r"[^\W\d_]+", lambda m: _DIGIT_WORD.get(
        m.group(0).casefold(), m.group(0)), text)
    words = re.sub(r"(?<=\d)[OoIlSB]+|[OoIlSB]+(?=\d)", lambda m: m.group(0).translate(_LOOK),
                   words)
    return re.sub(r"\D", "", words)


def number_leaks(out: str, number: str) -> bool:
    digits = re.sub(r"^(?:62|0)", "", number)
    found = _as_digits(out)
    return any(digits[i:i + 6] in found for i in range(len(digits) - 5))


def name_leaks(out: str, name: str) -> bool:
    words = set(re.findall(r"\w+", out.casefold()))
    return any(w in words for w in name.casefold().split())


def leak_set() -> list[tuple[str, list[str], str]]:
    rows = []
    for line in (DATA / "leaks.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, secrets, text = line.split("\t")
            rows.append((kind, secrets.split(","),
                         text.replace("\\n", "\n").replace("\\t", "\t")))
    return rows


@dataclass
class Leaks:
    numbers: int = 0
    numbers_leaked: int = 0
    names: int = 0
    names_leaked: int = 0
    misses: list[str] = field(default_factory=list)


def measure_leaks() -> Leaks:
    result = Leaks()
    for _, secrets, text in leak_set():
        out = dispatched(text)
        for secret in secrets:
            if secret[0].isdigit():
                result.numbers += 1
                if number_leaks(out, secret):
                    result.numbers_leaked += 1
                    result.misses.append(f"number: {text!r} -> {out!r}")
            else:
                result.names += 1
                if name_leaks(out, secret):
                    result.names_leaked += 1
                    result.misses.append(f"name: {text!r} -> {out!r}")
    return result


@dataclass
class Loss:
    words: int = 0
    lost: int = 0
    misses: list[str] = field(default_factory=list)


def measure_loss(name: str) -> Loss:
    result = Loss()
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text = line.partition("\t")[0]
        before = Counter(re.findall(r"[^\W\d_]+", text.casefold()))
        after = Counter(re.findall(r"[^\W\d_]+", dispatched(text).casefold()))
        gone = before - after
        result.words += sum(before.values())
        result.lost += sum(gone.values())
        if gone:
            result.misses.append(f"{', '.join(gone)}: {text!r}")
    return result


def hostile_seconds(chars: int = 100_000) -> dict[str, float]:
    times = {}
    for unit in HOSTILE:
        text = (unit * (chars // len(unit) + 1))[:chars]
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            scrub(text)
            best = min(best, time.perf_counter() - start)
        times[unit] = best
    return times


def main() -> None:
    show = "--misses" in sys.argv
    leaks = measure_leaks()
    print(f"leak set: {leaks.numbers} numbers, {leaks.numbers_leaked} reach the dispatch; "
          f"{leaks.names} names, {leaks.names - leaks.names_leaked} removed "
          f"({(leaks.names - leaks.names_leaked) / leaks.names:.1%})")
    for name in ORDINARY:
        loss = measure_loss(name)
        print(f"{name}: {loss.words} words, {loss.lost} lost ({loss.lost / loss.words:.2%})")
        if show:
            for miss in loss.misses:
                print("   lost", miss)
    if show:
        for miss in leaks.misses:
            print("   leak", miss)
    for unit, seconds in hostile_seconds().items():
        print(f"100,000 characters of {unit!r}: {seconds * 1000:.1f} ms")


if __name__ == "__main__":
    main()
