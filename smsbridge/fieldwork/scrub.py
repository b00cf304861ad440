"""What a dispatch must never carry of the reporter: their number in any shape, and a
name they give as theirs (pure: no I/O).

A dispatch SMS sits on a phone in the street, and the line promised reporters that
their identity stays protected. Citizens write numbers every way a keyboard allows, so
the text is first made plain (Unicode NFKC: full-width and styled digits become digits,
odd spaces become spaces). A *number* is then a run of parts (digits; mask stars;
O/o, I/l, S, B glued to digits, as in ``7OO1``; digit words, as in ``nol delapan satu``)
with at most a few non-letters between two parts: dashes of every kind, dots,
ellipses, commas, colons, brackets, spaces of every kind, invisible characters, emoji,
line ends. A run of 8 or more digits goes, whatever surrounds it; dates and times stand
apart and are kept (``12-05-2024``, ``20.30``). Then a name the writer gives as theirs
goes (``saya Andi``, ``Pelapor: Bu Siti Aminah``, ``a.n. Budi``, a name in brackets
after a number): the words after such a phrase that are not words of the line's
vocabulary (``saya lihat sendiri`` keeps ``lihat``).

Every step is one pass of regular expressions without nested repetition and a loop
over what they find: linear in the text's length, whatever it holds
(``bench/bench_scrub.py`` measures it; RESULTS.md has the figures).
"""

from __future__ import annotations

import re
import unicodedata

from smsbridge.triage.vocabulary import COMMON_WORDS, DIGIT_WORDS

# A phone number has at least this many digits (Indonesian mobiles have 10 to 13;
# masks count their hidden digits: the old 8 digits and 4 stars, or a prefix, five dots
# and two digits, privacy.mask_number).
NUMBER_MIN_DIGITS = 8
# Non-letters allowed between two digit groups of one number ("0812 – 3456").
_MAX_GAP = 8
# The parts of a number: digits, mask stars, look-alike letters glued to digits ("7OO1",
# never inside a word), digit words. Between two parts of one number stand at most a
# few characters that are neither letters, digits nor a line's end (dashes, dots,
# ellipses, commas, colons, brackets, spaces, invisible characters, emoji).
_ATOM = re.compile(
    r"(?=[\d*\u2022OoIlSBnkstdeflzoiNKSTDEFLZ])"
    r"(?:\d+|[*\u2022]+|(?<![^\W\d_])[OoIlSB]{1,4}(?=\d)|(?<=\d)[OoIlSB]{1,4}(?![^\W\d_])"
    r"|(?P<word>(?<![^\W\d_])(?i:" + "|".join(sorted(DIGIT_WORDS)) + r")(?![^\W\d_])))")
_GAP = re.compile(rf"(?:[^\w]|_){{0,{_MAX_GAP}}}")
# Dates and times are no phone numbers: they stand apart, and a number never runs
# through one ("tgl 12-05-2024 (20.30)").
_DATE_OR_TIME = re.compile(
    r"(?<![\d.:/])(?:(?P<day>\d{1,2})([./-])(?P<month>\d{1,2})\2(?:\d{4}|\d{2})"
    r"|(?P<hour>[01]?\d|2[0-4])[.:][0-5]\d)(?![\d.:/-]?\d)")

# The phrases after which a writer names themselves, longest first so that "nama saya"
# wins over "nama". Matched in any case.
_SELF = ("nama saya", "nama sy", "nama aku", "namaku", "saya bernama", "atas nama",
         "my name is", "name is", "nama", "saya", "sy", "aku", "gue", "gua", "gw", "pelapor",
         "a.n.", "a.n", "an.", "bu", "ibu", "pak", "bapak", "mas", "mbak", "mba", "i am",
         "i'm")
_SELF_NAMED = re.compile(
    r"(?=[abgimnps])(?<![\w.])(?:"
    + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in _SELF) + r")"
    r"(?!\w)", re.IGNORECASE)
# After the phrase: a colon, comma, dot or dash, or spaces; maybe "ini"/"adalah"; then
# up to four words (a word of address and a name of up to three).
_NAME_AFTER = re.compile(r"(?:[ \t]*[:,.\-][ \t]*|[ \t]+)(?:(?:ini|adalah|bernama)[ \t]+)?"
                         r"([^\W\d_]+(?:[ \t]+[^\W\d_]+){0,3})", re.IGNORECASE)
# Words of address that may stand between the phrase and the name ("pelapor: Bu Siti").
_HONORIFICS = frozenset({"bu", "ibu", "pak", "bapak", "mas", "mbak", "mba", "sdr", "sdri",
                         "saudara", "saudari", "kak", "bang"})
_NAME_MAX_WORDS = 3
_SPACE = re.compile(r"[^\S\n]")


def normalise(text: str) -> str:
    """NFKC, every kind of space a space (NBSP, thin, ideographic)."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text))


def remove_numbers(text: str, mark: str) -> str:
    """``text`` with every phone-number-shaped run replaced by ``mark``."""
    kept = [m.span() for m in _DATE_OR_TIME.finditer(text) if _is_date_or_time(m)]
    out: list[str] = []
    done = 0  # text[:done] is decided
    start = end = total = 0
    k = 0  # the first date or time not yet behind us
    for atom in _ATOM.finditer(text):
        while k < len(kept) and kept[k][1] <= atom.start():
            k += 1
        inside = k < len(kept) and kept[k][0] <= atom.start()
        if total and not inside and _GAP.fullmatch(text, end, atom.start()) and not (
                k < len(kept) and end <= kept[k][0] < atom.start()):
            end, total = atom.end(), total + _count(atom)
            continue
        if total:
            done = _close(text, start, end, total, mark, out, done)
            total = 0
        if not inside:
            start, end, total = atom.start(), atom.end(), _count(atom)
    if total:
        done = _close(text, start, end, total, mark, out, done)
    out.append(text[done:])
    return "".join(out)


def _is_date_or_time(found: re.Match[str]) -> bool:
    if found.group("hour") is not None:
        return True
    return 1 <= int(found.group("day")) <= 31 and 1 <= int(found.group("month")) <= 12


def _count(atom: re.Match[str]) -> int:
    return 1 if atom.lastgroup == "word" else len(atom.group(0))


def _close(text: str, start: int, end: int, total: int, mark: str, out: list[str],
           done: int) -> int:
    """Replace the run text[start:end] when it is a number; what is now decided."""
    if total < NUMBER_MIN_DIGITS:
        return done
    if start > 0 and text[start - 1] == "+":
        start -= 1
    out.append(text[done:start])
    out.append(mark)
    return end


def remove_names(text: str, mark: str, number_mark: str) -> str:
    """``text`` without a name its writer gives as theirs."""
    out: list[str] = []
    done = 0
    for phrase in _SELF_NAMED.finditer(text):
        if phrase.start() < done:
            continue  # inside a name already taken
        after = _NAME_AFTER.match(text, phrase.end())
        if after is None:
            continue
        parts = re.split(r"([ \t]+)", after.group(1))  # word, space, word, ...
        words = parts[::2]
        first = 0
        while first < len(words) - 1 and words[first].casefold() in _HONORIFICS:
            first += 1
        last = first
        while last < min(len(words), first + _NAME_MAX_WORDS) and \
                words[last].casefold() not in COMMON_WORDS and \
                words[last].casefold() not in _HONORIFICS:
            last += 1
        if last == first:
            continue
        start = after.start(1) + len("".join(parts[:2 * first]))
        end = start + len("".join(parts[2 * first:2 * last - 1]))
        out.append(text[done:start])
        out.append(mark)
        done = end
    out.append(text[done:])
    text = "".join(out)
    bracketed = re.compile(re.escape(number_mark) + r"(\s*)\(([^()\d\n]{1,40})\)")
    return bracketed.sub(lambda m: f"{number_mark}{m.group(1)}({mark})", text)


def scrub_text(text: str, *, number_mark: str, name_mark: str) -> str:
    """``text`` without phone numbers in any shape, nor a name given as the writer's."""
    return remove_names(remove_numbers(normalise(text), number_mark), name_mark,
                        number_mark)
