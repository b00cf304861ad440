"""What the field loop says by SMS (pure: no I/O, no clock): the case sent to an
officer, the officer's confirmation, the neutral reply, and the citizen's notice.

The police promise reporters that their identity stays protected, and a dispatch
SMS sits on a phone in the street: it never carries the reporter's number (the
case's reporter is never read here) and everything it quotes (the report, the place,
the desk's note) passes through ``scrub``, which removes anything shaped like a
phone number, whole, spaced or masked, and a name the text gives as its writer's.
A dispatch fits two SMS, in GSM-7 (153 characters a part) so that it does: letters
outside the alphabet (emoji) are dropped, typographic ones made plain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from smsbridge.config.sections import Config
from smsbridge.errors import InvalidInput
from smsbridge.models import Case
from smsbridge.numbers import reply_problem
from smsbridge.replies import ReplyDecision, auto_reply_decision
from smsbridge.sms import gsm7, pdu

DISPATCH_MAX_PARTS = 2
# The report needs most of the room: a note takes at most this much of it.
NOTE_MAX_CHARS = 100

_TEXTS: dict[str, dict[str, str]] = {
    "id": {
        "task": "TUGAS {ticket}",
        "category": "Kategori: {value}",
        "place": "Lokasi: {value}",
        "report": "Laporan: {value}",
        "note": "Catatan: {value}",
        "how": "Balas: KATA {ticket} {findings} keterangan",
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
        "how": "Reply: WORD {ticket} {findings} details",
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

# One GSM-7 SMS each with the longest ticket (tests/test_field.py checks). "fake" is
# never said to a reporter, as in replies.py.
_NOTICES = {
    "id": {
        "confirmed": ("Laporan {ticket} sudah dicek petugas dan benar. Petugas sedang "
                      "menindaklanjuti. Terima kasih atas laporan Anda."),
        "resolved": ("Laporan {ticket} sudah ditindaklanjuti petugas dan selesai. Terima "
                     "kasih, laporan Anda membantu."),
        "fake": "Laporan {ticket} sudah dicek petugas dan ditutup. Terima kasih atas laporan Anda.",
        "duplicate": ("Laporan {ticket} digabung dengan laporan lain tentang kejadian yang "
                      "sama. Terima kasih."),
    },
    "en": {
        "confirmed": ("Your report {ticket} was checked by officers and confirmed. Action is "
                      "being taken. Thank you for reporting."),
        "resolved": ("Your report {ticket} was dealt with by officers and is resolved. Thank "
                     "you for reporting."),
        "fake": "Your report {ticket} was checked by officers and closed. Thank you for reporting.",
        "duplicate": ("Your report {ticket} was merged with another report of the same event. "
                      "Thank you."),
    },
}

# A run of digits with the spaces, dashes, dots, brackets and mask stars people and our
# own masking put in numbers: "+62 812-3456-7001", "(0812) 3456 7001", "+62 812 ••••• 01".
_NUMBERISH = re.compile(r"\+?[0-9*\u2022(][0-9*\u2022()\s.\-/]{4,}[0-9*\u2022]")
_DATE = re.compile(r"\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})")
_NAMED = re.compile(r"\b(nama\s+saya|saya\s+bernama|my\s+name\s+is|nama\s*:)\s+([^\s,.;:]+)"
                    r"((?:\s+[A-Z][^\s,.;:]*)*)", re.IGNORECASE)
# "Saya Andi", "saya ini Budi Santoso": "saya" (I) then a capitalised word is how a
# writer names themselves; a capital is the only sign of a name, so one that is not
# ("Saya Lihat sendiri") is removed too: a lost word costs less than a reporter's name.
_SELF_NAMED = re.compile(r"\b((?i:saya)(?:\s+(?i:ini|adalah))?)\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2013": "-", "\u2014": "-", "\u00a0": " ", "\u2026": "...",
                        "\n": " ", "\r": " ", "\t": " "})


def scrub(text: str, language: str = "id") -> str:
    """``text`` without phone numbers in any form, nor a name given as the writer's."""
    words = _TEXTS[language]

    def number(match: re.Match[str]) -> str:
        found = match.group(0)
        if _DATE.fullmatch(found.strip()):
            return found
        digits = sum(c.isdigit() or c in "*\u2022" for c in found)
        return words["number"] if digits >= 7 else found

    text = _NUMBERISH.sub(number, text)
    text = _NAMED.sub(lambda m: f"{m.group(1)} {words['name']}", text)
    return _SELF_NAMED.sub(lambda m: f"{m.group(1)} {words['name']}", text)


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
                 place: str | None = None, note: str | None = None) -> str:
        """The SMS to an officer: at most two parts, the report shortened to fit."""
        clean_note = plain_gsm7(scrub(note or "", self.language))
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
        tail.append(self._t("how").format(ticket=ticket, findings="/".join(self.findings)))
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

    def for_case(self, case: Case, note: str | None = None) -> str:
        """The dispatch of ``case``: its ticket, category and place (what intake found,
        as operators corrected it; "other" says nothing), its words."""
        category = case.category if case.category != "other" else None
        return self.dispatch(ticket=case.ticket, report=case.text, category=category,
                             place=case.place, note=note)

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


@dataclass(frozen=True)
class NoticeCounts:
    """Automatic SMS already queued (store.outbox.count_auto_replies)."""

    to_number_last_hour: int = 0
    line_last_hour: int = 0
    line_last_day: int = 0


@dataclass(frozen=True)
class Notices:
    """The reporter's SMS when their case reaches a status, for the statuses the
    config turns on (``[fieldwork] notify_*``), under the rules and budgets of every
    automatic reply (``replies.auto_reply_decision``)."""

    templates: dict[str, str] = field(default_factory=dict)
    enabled: bool = True
    blocklist: frozenset[str] = frozenset()
    replies_per_hour: int = 5
    line_per_hour: int = 300
    line_per_day: int = 2000
    short_code_max_digits: int = 5

    @classmethod
    def from_config(cls, cfg: Config) -> Notices:
        from smsbridge.numbers import normalize

        f = cfg.fieldwork
        built = _NOTICES[cfg.replies.language]
        chosen = {}
        for status in ("confirmed", "resolved", "fake", "duplicate"):
            if getattr(f, f"notify_{status}"):
                chosen[status] = getattr(f, f"notice_{status}") or built[status]
        abuse = cfg.abuse
        return cls(chosen, cfg.replies.enabled,
                   frozenset(normalize(n, cfg.daemon.country_code) for n in abuse.blocklist),
                   abuse.replies_per_hour, abuse.line_replies_per_hour,
                   abuse.line_replies_per_day, abuse.short_code_max_digits)

    def text(self, status: str, ticket: str) -> str | None:
        template = self.templates.get(status)
        return template.format(ticket=ticket) if template else None

    def decide(self, reporter: str, status: str, ticket: str, counts: NoticeCounts
               ) -> tuple[str, ReplyDecision] | None:
        """The notice for a case that just became ``status`` and whether it may go now;
        None when this status has no notice."""
        text = self.text(status, ticket)
        if text is None:
            return None
        budget = None
        if counts.line_last_hour >= self.line_per_hour:
            budget = f"the line's budget of {self.line_per_hour} automatic replies an hour is spent"
        elif counts.line_last_day >= self.line_per_day:
            budget = f"the line's budget of {self.line_per_day} automatic replies a day is spent"
        return text, auto_reply_decision(
            sender_is_person=True, blocked=reporter in self.blocklist,
            replies_last_hour=counts.to_number_last_hour,
            replies_per_hour=self.replies_per_hour, identical_texts_last_hour=0,
            loop_threshold=1, enabled=self.enabled,
            number_problem=reply_problem(reporter,
                                         short_code_max_digits=self.short_code_max_digits),
            budget_problem=budget)


def built_in_notice(language: str, status: str) -> str:
    """The built-in template (tests check each fits one GSM-7 SMS)."""
    return _NOTICES[language][status]
