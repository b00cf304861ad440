"""What smsbridge says to citizens, and when it keeps quiet (pure: no I/O, no clock).

Texts are short on purpose: each default template fits ONE GSM-7 SMS (160
septets) with the longest possible ticket, so a reply costs one SMS and arrives in
one piece on the oldest feature phone (tests/test_replies.py checks every one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smsbridge.config.sections import ReplyConfig
from smsbridge.errors import InvalidInput

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


@dataclass(frozen=True)
class StatusQuery:
    """``CEK <ticket>``; ``ticket`` is None for a bare ``CEK`` (the sender's latest case)."""

    ticket: str | None


def parse_command(text: str, keywords: list[str] | tuple[str, ...]) -> StatusQuery | None:
    """A citizen's keyword command, or None when the text is a report.

    Only a message that is nothing but the keyword and a ticket-like token counts:
    "cek lokasi judi di pasar" is a report that happens to start with "cek".
    """
    words = text.strip().split()
    if not words or words[0].upper().rstrip(":.") not in {k.upper() for k in keywords}:
        return None
    rest = "".join(words[1:])
    if not rest:
        return StatusQuery(None)
    if len(words) <= 3 and re.fullmatch(r"[A-Za-z]{0,4}[-\s#:.]*[0-9OoIl]{1,10}", rest):
        return StatusQuery(rest)
    return None


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
        raise InvalidInput("the reply is empty")
    if len(body) > MAX_REPLY_CHARS:
        raise InvalidInput(f"the reply has {len(body)} characters; at most "
                           f"{MAX_REPLY_CHARS} fit a few SMS")
    return body
