"""What smsbridge says to citizens, and when it keeps quiet (pure: no I/O, no clock).

Texts are short on purpose: each default template fits ONE GSM-7 SMS (160
septets) with the longest possible ticket, so a reply costs one SMS and arrives in
one piece on the oldest feature phone (tests/test_replies.py checks every one; the
config refuses a template of its own that does not, ``config.checks``). An automatic
reply never repeats what the citizen typed beyond the canonical ticket, so no text
sent in can make the line send more.

The reporter's notices (their case was confirmed, resolved, ...) are citizens' replies
too, with an allowance of their own beside the per-number reply limit: a reporter's
CEKs never cost them the news that their report was acted on. Every automatic SMS
counts against the line's budget, in SMS parts (``line_budget_problem``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smsbridge import tickets
from smsbridge.config.sections import Config, ReplyConfig
from smsbridge.errors import InvalidInput
from smsbridge.i18n import _
from smsbridge.numbers import known_problem, normalize
from smsbridge.sms import pdu

STATUSES = ("new", "checking", "confirmed", "resolved", "fake", "duplicate")
# An operator's reply: a few SMS at most (1000 GSM-7 characters are 7 parts).
MAX_REPLY_CHARS = 1000

_TEXTS: dict[str, dict[str, str]] = {
    "id": {
        "ack": ("Laporan Anda diterima. No tiket: {ticket}. Identitas Anda dirahasiakan. "
                "Cek status: kirim CEK {ticket}"),
        "status": "Tiket {ticket}: {status}. Terima kasih atas laporan Anda.",
        "unknown_ticket": ("Tiket {ticket} tidak ditemukan. Periksa nomornya, "
                           "contoh: CEK LP-000123"),
        "no_case": "Belum ada laporan dari nomor ini. Kirim laporan Anda beserta lokasinya.",
    },
    "en": {
        "ack": ("Your report is received. Ticket: {ticket}. Your identity is kept "
                "confidential. For status send CEK {ticket}"),
        "status": "Ticket {ticket}: {status}. Thank you for your report.",
        "unknown_ticket": "Ticket {ticket} not found. Check the number, e.g. CEK LP-000123",
        "no_case": "No report from this number yet. Send your report with the location.",
    },
}

# Plain words for each status, as a citizen should read them. "fake" is never
# said to the reporter: officers may be wrong, and a reporter told "fake" stops
# reporting. It reads as "closed, could not be confirmed".
_STATUS_WORDS: dict[str, dict[str, str]] = {
    "id": {
        "new": "diterima, menunggu pemeriksaan",
        "checking": "sedang diperiksa petugas",
        "confirmed": "terkonfirmasi, sedang ditindaklanjuti",
        "resolved": "selesai ditindaklanjuti",
        "fake": "ditutup, tidak dapat dikonfirmasi",
        "duplicate": "digabung dengan laporan lain yang sama",
    },
    "en": {
        "new": "received, waiting to be checked",
        "checking": "being checked by officers",
        "confirmed": "confirmed, action is being taken",
        "resolved": "resolved",
        "fake": "closed, could not be confirmed",
        "duplicate": "merged with another report of the same event",
    },
}

@dataclass(frozen=True)
class Templates:
    ack: str
    status: str
    unknown_ticket: str
    no_case: str
    status_words: dict[str, str]

    @classmethod
    def from_config(cls, cfg: ReplyConfig) -> Templates:
        base = _TEXTS[cfg.language]
        return cls(
            ack=cfg.ack or base["ack"],
            status=cfg.status or base["status"],
            unknown_ticket=cfg.unknown_ticket or base["unknown_ticket"],
            no_case=base["no_case"],
            status_words=_STATUS_WORDS[cfg.language],
        )

    def render_ack(self, ticket: str) -> str:
        return self.ack.format(ticket=ticket)

    def render_status(self, ticket: str, status: str) -> str:
        return self.status.format(ticket=ticket, status=self.status_words.get(status, status))

    def render_unknown(self, ticket: str) -> str:
        return self.unknown_ticket.format(ticket=ticket)


# Words a CEK may carry after its ticket ("CEK LP-000148 tolong dicek"), or instead
# of one ("cek laporan saya"). A longer text that opens with the keyword is a report
# ("cek lokasi judi di pasar minggu malam ini").
COMMAND_MAX_WORDS = 3
_TRIM = ".,:;!?-()\"'"


@dataclass(frozen=True)
class StatusQuery:
    """``CEK <ticket>``, ``ticket`` written the canonical way (``LP-000148``); None for
    a ``CEK`` naming no ticket of this line (the sender's latest case)."""

    ticket: str | None


def parse_command(text: str, keywords: list[str] | tuple[str, ...], prefix: str = "LP",
                  digits: int = 6) -> StatusQuery | None:
    """A citizen's keyword command, or None when the text is a report.

    The keyword, then a ticket of this line in ``tickets.read_ticket``'s grammar or
    none, then at most ``COMMAND_MAX_WORDS`` words and any punctuation:
    ``CEK LP-000148 ?``, ``cek LP_000123``, ``CEK LP/123``, ``cek laporan saya``.
    A text longer than one SMS is never a command: a command costs one SMS in and one
    out, whatever is typed.
    """
    if pdu.parts_needed(text) > 1:
        return None
    head, *rest = text.strip().split(maxsplit=1) or [""]
    if not head or head.upper().rstrip(_TRIM) not in {k.upper() for k in keywords}:
        return None
    after = rest[0] if rest else ""
    found = tickets.read_ticket(after.lstrip(_TRIM + " "), prefix, digits)
    ticket = None
    if found is not None:
        number, after = found
        ticket = tickets.format_ticket(number, prefix, digits)
    words = [w for w in after.split() if w.strip(_TRIM)]
    if len(words) > COMMAND_MAX_WORDS:
        return None
    return StatusQuery(ticket)


@dataclass(frozen=True)
class ReplyDecision:
    send: bool
    reason: str  # why not, for the log and the case history ("" when sending)
    over_budget: bool = False  # the line's budget, not this sender, said no


def auto_reply_decision(*, sender_is_person: bool, blocked: bool, replies_last_hour: int,
                        replies_per_hour: int, identical_texts_last_hour: int,
                        loop_threshold: int, enabled: bool = True,
                        number_problem: str | None = None,
                        budget_problem: str | None = None) -> ReplyDecision:
    """Whether an automatic reply may go to this sender now.

    The order matters only for the reason given: every rule is a reason to stay
    quiet, and the report itself is stored whatever is decided here.
    """
    if not enabled:
        return ReplyDecision(False, "automatic replies are disabled")
    if not sender_is_person:
        return ReplyDecision(False, "sender is a service (alphanumeric or short code)")
    if number_problem:
        return ReplyDecision(False, f"the sender cannot receive SMS: {number_problem}")
    if blocked:
        return ReplyDecision(False, "sender is on the blocklist")
    if identical_texts_last_hour > loop_threshold:
        return ReplyDecision(False, "reply loop suspected: the same text again and again")
    if replies_last_hour >= replies_per_hour:
        return ReplyDecision(False, f"reply limit of {replies_per_hour} an hour reached")
    if budget_problem:
        return ReplyDecision(False, budget_problem, over_budget=True)
    return ReplyDecision(True, "")


def operator_reply_text(text: str) -> str:
    """An operator's reply as it will be sent, or InvalidInput saying what is wrong."""
    body = text.strip()
    if not body:
        raise InvalidInput(_("the reply is empty"))
    if len(body) > MAX_REPLY_CHARS:
        raise InvalidInput(_("the reply has {count} characters; at most {most} fit a few "
                             "SMS").format(count=len(body), most=MAX_REPLY_CHARS))
    return body


def line_budget_problem(parts_last_hour: int, parts_last_day: int, *, per_hour: int,
                        per_day: int) -> str | None:
    """Why the line's budget allows no automatic SMS now, or None. The budget counts
    SMS parts, what the SIM's package is charged, whoever they went to."""
    if parts_last_hour >= per_hour:
        return f"the line's budget of {per_hour} automatic replies an hour is spent"
    if parts_last_day >= per_day:
        return f"the line's budget of {per_day} automatic replies a day is spent"
    return None


# The reporters' notices. One GSM-7 SMS each with the longest ticket (tests/test_field.py
# checks). "fake" is never said to a reporter, as above.
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



@dataclass(frozen=True)
class NoticeCounts:
    """Automatic SMS already queued (store.outbox.count_auto_replies): the notices to
    this number, and every automatic SMS of the line, in parts."""

    to_number_last_hour: int = 0
    line_last_hour: int = 0
    line_last_day: int = 0


@dataclass(frozen=True)
class Notices:
    """The reporter's SMS when their case reaches a status, for the statuses the
    config turns on (``[fieldwork] notify_*``), under the rules of every automatic
    reply (``auto_reply_decision``) but with their own allowance per number
    (``[abuse] notices_per_hour``, counting notices only), inside the line's budget."""

    templates: dict[str, str] = field(default_factory=dict)
    enabled: bool = True
    blocklist: frozenset[str] = frozenset()
    notices_per_hour: int = 5
    line_per_hour: int = 300
    line_per_day: int = 2000
    short_code_max_digits: int = 5

    @classmethod
    def from_config(cls, cfg: Config) -> Notices:
        f = cfg.fieldwork
        built = _NOTICES[cfg.replies.language]
        chosen = {}
        for status in ("confirmed", "resolved", "fake", "duplicate"):
            if getattr(f, f"notify_{status}"):
                chosen[status] = getattr(f, f"notice_{status}") or built[status]
        abuse = cfg.abuse
        return cls(chosen, cfg.replies.enabled,
                   frozenset(normalize(n, cfg.daemon.country_code) for n in abuse.blocklist),
                   abuse.notices_per_hour, abuse.line_replies_per_hour,
                   abuse.line_replies_per_day, abuse.short_code_max_digits)

    def text(self, status: str, ticket: str) -> str | None:
        template = self.templates.get(status)
        return template.format(ticket=ticket) if template else None

    def decide(self, reporter: str, status: str, ticket: str, counts: NoticeCounts,
               *, written_problem: str | None = None) -> tuple[str, ReplyDecision] | None:
        """The notice for a case that just became ``status`` and whether it may go now;
        None when this status has no notice. ``written_problem``: what was found of the
        number when it was written, for a ``reporter`` read masked."""
        text = self.text(status, ticket)
        if text is None:
            return None
        budget = line_budget_problem(counts.line_last_hour, counts.line_last_day,
                                     per_hour=self.line_per_hour, per_day=self.line_per_day)
        return text, auto_reply_decision(
            sender_is_person=True, blocked=reporter in self.blocklist,
            replies_last_hour=counts.to_number_last_hour,
            replies_per_hour=self.notices_per_hour, identical_texts_last_hour=0,
            loop_threshold=1, enabled=self.enabled,
            number_problem=known_problem(reporter, written_problem,
                                         short_code_max_digits=self.short_code_max_digits),
            budget_problem=budget)


def built_in_notice(language: str, status: str) -> str:
    """The built-in template (tests check each fits one GSM-7 SMS)."""
    return _NOTICES[language][status]
