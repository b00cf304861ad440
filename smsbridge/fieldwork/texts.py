"""What the field loop says by SMS (pure: no I/O, no clock): the case sent to an
officer, the officer's confirmation and the neutral reply (the citizen's notice is
``replies.Notices``: what citizens are told lives with their replies).

The police promise reporters that their identity stays protected, and a dispatch
SMS sits on a phone in the street: it never carries the reporter's number (the
case's reporter is never read here) and everything it quotes (the report, the place,
the desk's note) passes through ``scrub`` (``fieldwork.scrub``), which removes anything
shaped like a phone number in any writing of it, and a name the text gives as its
writer's.
A dispatch fits two SMS, in GSM-7 (153 characters a part) so that it does: letters
outside the alphabet (emoji) are dropped, typographic ones made plain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smsbridge.config.sections import Config
from smsbridge.errors import InvalidInput
from smsbridge.fieldwork.scrub import scrub_text
from smsbridge.models import Case
from smsbridge.sms import gsm7, pdu

DISPATCH_MAX_PARTS = 2
# Where a dispatch shown to the desk holds each officer's one-time code.
CODE_SLOT = "####"
# The report needs most of the room: a note takes at most this much of it.
NOTE_MAX_CHARS = 100

_TEXTS: dict[str, dict[str, str]] = {
    "id": {
        "task": "TUGAS {ticket}",
        "category": "Kategori: {value}",
        "place": "Lokasi: {value}",
        "report": "Laporan: {value}",
        "note": "Catatan: {value}",
        "how": "Balas (sandi Anda di depan): {ticket} {code} {findings}",
        "changed": "OK {ticket}: dicatat, status {status}.",
        "noted": "OK {ticket}: catatan dicatat.",
        "kept": "OK {ticket}: dicatat sebagai catatan, status tetap {status}.",
        "neutral": "Pesan tidak dapat diproses. Periksa format atau hubungi piket.",
        "number": "[nomor]",
        "name": "[nama]",
    },
    "en": {
        "task": "TASK {ticket}",
        "category": "Category: {value}",
        "place": "Place: {value}",
        "report": "Report: {value}",
        "note": "Note: {value}",
        "how": "Reply (your word first): {ticket} {code} {findings}",
        "changed": "OK {ticket}: recorded, status {status}.",
        "noted": "OK {ticket}: note recorded.",
        "kept": "OK {ticket}: recorded as a note, status stays {status}.",
        "neutral": "Message could not be processed. Check the format or call the desk.",
        "number": "[number]",
        "name": "[name]",
    },
}

# How officers read a status (they may read "fake"; reporters never do: replies.py).
_STATUS_WORDS = {
    "id": {"new": "baru", "checking": "diperiksa", "confirmed": "terkonfirmasi",
           "resolved": "selesai", "fake": "palsu", "duplicate": "duplikat"},
    "en": {"new": "new", "checking": "being checked", "confirmed": "confirmed",
           "resolved": "resolved", "fake": "fake", "duplicate": "duplicate"},
}

_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2013": "-", "\u2014": "-", "\u00a0": " ", "\u2026": "...",
                        "\n": " ", "\r": " ", "\t": " "})


def scrub(text: str, language: str = "id") -> str:
    """``text`` without phone numbers in any shape, nor a name given as the writer's
    (``fieldwork.scrub``)."""
    words = _TEXTS[language]
    return scrub_text(text, number_mark=words["number"], name_mark=words["name"])


def plain_gsm7(text: str) -> str:
    """``text`` in the GSM-7 alphabet: typographic marks made plain, the rest (emoji,
    other scripts) dropped, runs of spaces made one."""
    plain = text.translate(_PLAIN)
    kept = "".join(c for c in plain if gsm7.fits(c))
    return re.sub(r" {2,}", " ", kept).strip()


@dataclass(frozen=True)
class FieldTexts:
    """The field loop's SMS in the line's language (``[replies] language``)."""

    language: str = "id"
    findings: tuple[str, ...] = ("BENAR", "PALSU", "SELESAI")

    @classmethod
    def from_config(cls, cfg: Config) -> FieldTexts:
        f = cfg.fieldwork
        return cls(cfg.replies.language,
                   (f.confirmed_words[0].upper(), f.fake_words[0].upper(),
                    f.resolved_words[0].upper()))

    def _t(self, key: str) -> str:
        return _TEXTS[self.language][key]

    def dispatch(self, *, ticket: str, report: str, category: str | None = None,
                 place: str | None = None, note: str | None = None, code: str = "") -> str:
        """The SMS to an officer: at most two parts, the report shortened to fit; its
        last line is what to send back, with the dispatch's one-time ``code``."""
        clean_note = self.clean_note(note)
        if len(clean_note) > NOTE_MAX_CHARS:
            raise InvalidInput(f"the note has {len(clean_note)} characters; at most "
                               f"{NOTE_MAX_CHARS} fit beside the report")
        head = [self._t("task").format(ticket=ticket)]
        if category:
            head.append(self._t("category").format(value=plain_gsm7(category.replace("_", " "))))
        if place:
            head.append(self._t("place").format(
                value=plain_gsm7(scrub(place, self.language))))
        tail = [self._t("note").format(value=clean_note)] if clean_note else []
        tail.append(self._t("how").format(ticket=ticket, code=code,
                                          findings="/".join(self.findings)))
        body = plain_gsm7(scrub(report, self.language))

        def build(words: str) -> str:
            return "\n".join([*head, self._t("report").format(value=words), *tail])

        if pdu.parts_needed(build(body)) <= DISPATCH_MAX_PARTS:
            return build(body)
        low, high = 0, len(body)
        while low < high:
            middle = (low + high + 1) // 2
            if pdu.parts_needed(build(_cut(body, middle))) <= DISPATCH_MAX_PARTS:
                low = middle
            else:
                high = middle - 1
        return build(_cut(body, low))

    def clean_note(self, note: str | None) -> str:
        """The desk's note as a dispatch carries it (and its record keeps it)."""
        return plain_gsm7(scrub(note or "", self.language))

    def checked(self, text: str) -> str:
        """A dispatch as the desk edited it: scrubbed like the one it was made from, in
        GSM-7, still with its code's place, still fitting two SMS."""
        lines = [plain_gsm7(scrub(line, self.language)) for line in text.splitlines()]
        sms = "\n".join(line for line in lines if line)
        if CODE_SLOT not in sms:
            raise InvalidInput(f"the edited SMS lost {CODE_SLOT}, where each officer's "
                               "one-time code goes: keep it on the reply line")
        if pdu.parts_needed(sms.replace(CODE_SLOT, "XXXX")) > DISPATCH_MAX_PARTS:
            raise InvalidInput(f"the edited SMS needs more than {DISPATCH_MAX_PARTS} SMS; "
                               "shorten it")
        return sms

    def for_case(self, case: Case, note: str | None = None, code: str = "") -> str:
        """The dispatch of ``case``: its ticket, category and place (what intake found,
        as operators corrected it; "other" says nothing), its words."""
        category = case.category if case.category != "other" else None
        return self.dispatch(ticket=case.ticket, report=case.text, category=category,
                             place=case.place, note=note, code=code)

    def confirmation(self, ticket: str, *, finding: str | None, status: str,
                     changed: bool) -> str:
        """The one line an officer gets back for an accepted answer."""
        words = _STATUS_WORDS[self.language]
        if changed:
            return self._t("changed").format(ticket=ticket, status=words.get(status, status))
        if finding is None:
            return self._t("noted").format(ticket=ticket)
        return self._t("kept").format(ticket=ticket, status=words.get(status, status))

    def neutral(self) -> str:
        """The reply to an answer that changes nothing: the same whatever failed, so it
        tells a spoofer nothing (and it goes to the registered phone, not theirs)."""
        return self._t("neutral")


def _cut(text: str, size: int) -> str:
    if size >= len(text):
        return text
    cut = text[:max(size - 3, 0)]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:-") + "..."
