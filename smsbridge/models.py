"""Frozen dataclasses that cross layers: what the store returns and the CLI formats.

Times are ISO 8601 strings with an offset (the store writes UTC, ``+00:00``), so they
sort as text and survive JSON unchanged; ``to_local`` turns one into local time for
people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo


def to_iso(moment: datetime) -> str:
    """A timezone-aware datetime as stored (naive datetimes are taken as local time)."""
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def to_local(iso: str | None, zone: tzinfo | None = None) -> datetime | None:
    """A stored time in ``zone`` (the config's ``[desk] timezone``; None: the box's)."""
    return None if iso is None else datetime.fromisoformat(iso).astimezone(zone)


# The outbox's two lanes. Field SMS (dispatches, officers' confirmations), operators'
# own replies and citizens' status notices go out before automatic acknowledgements:
# one flood of reports must not hold back the officer it is about.
FIRST_LANE, AUTO_LANE = 0, 1


@dataclass(frozen=True)
class WaitingReply:
    """A claimable reply as the pool's routing sees it: its id, number, when it became
    due, the modem it prefers (its report came in there) and its lane."""

    id: int
    number: str
    due_at: datetime
    prefer: str | None = None
    lane: int = AUTO_LANE


@dataclass(frozen=True)
class Case:
    """One citizen report. ``reporter`` is the full number where this process holds the
    keys (mask it when showing it), else its mask."""

    id: int
    ticket: str
    status: str
    reporter: str
    channel: str
    text: str
    received_at: str
    updated_at: str
    assigned_to: str | None = None
    duplicate_of: str | None = None  # the other case's ticket
    incomplete: bool = False
    flags: tuple[str, ...] = ()
    first_action_at: str | None = None
    last_message_at: str | None = None
    messages: int = 0
    # What intake found in the text (operators correct them); None on cases of before.
    category: str | None = None
    place: str | None = None
    # The first case of the incident this one may repeat (that case names itself).
    incident_id: int | None = None
    # Intake found words of a weapon, an explosive or a person in danger.
    urgent: bool = False
    # The number's token (``sealing/keys.py``): what finds its other cases and budgets.
    reporter_token: str = ""
    # Why no SMS can go to its number, found when it was written (None: one can).
    reporter_problem: str | None = None


@dataclass(frozen=True)
class TrackRecord:
    """What a reporter's number sent before a case, told without the number: how many
    reports, how many of them proved true (confirmed or resolved) or fake."""

    earlier: int = 0
    confirmed: int = 0
    fake: int = 0

    def __str__(self) -> str:
        if not self.earlier:
            return "no earlier reports"
        return (f"{self.earlier} earlier: {self.confirmed} confirmed, {self.fake} fake")


@dataclass(frozen=True)
class Change:
    """One line of some case's history with the case as it is now: what ``cases
    watch`` shows as it happens."""

    event: CaseEvent
    case: Case


@dataclass(frozen=True)
class CaseEvent:
    """One line of a case's audit trail."""

    id: int
    case_id: int
    at: str
    operator: str
    action: str
    old_status: str | None = None
    new_status: str | None = None
    note: str | None = None
    # The OS account that wrote the line, whatever ``operator`` says (--as is a name
    # typed, not an identity); None on lines written before schema version 6.
    login: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    """A look at reporters' identities: a lookup by number or a reveal, by whom."""

    id: int
    at: str
    login: str
    operator: str
    action: str
    detail: str


@dataclass(frozen=True)
class OutboxItem:
    """An SMS to send; the daemon moves it through queued -> sent -> delivered."""

    id: int
    case_id: int | None
    number: str
    text: str
    kind: str
    state: str
    attempts: int
    created_at: str
    created_by: str
    next_attempt_at: str | None = None
    last_error: str | None = None
    sent_at: str | None = None
    delivered_at: str | None = None
    refs: tuple[int, ...] = ()
    # The pool's bookkeeping (schema 7): the modem the reply prefers (its report came in
    # there), the modem holding its lease and until when, the one that sent it, and the
    # storage slots its parts were written to before sending (JSON list), if any.
    prefer_modem: str | None = None
    lease_owner: str | None = None
    lease_until: str | None = None
    sent_by: str | None = None
    slots: str | None = None
    ticket: str | None = None  # the case's, when the query joined it (``outbox list``)
    parts: int = 1  # SMS parts its text takes: what the budgets and daily caps count
    number_token: str = ""  # the number's token (``sealing/keys.py``)
    number_problem: str | None = None  # why no SMS can go to it, found when written


@dataclass(frozen=True)
class InboundRecord:
    """One stored inbound SMS (or status report), raw PDU beside the decoded text."""

    id: int
    pdu_hash: str
    pdu: str
    kind: str
    received_at: str
    error: str | None = None
    sender: str | None = None
    sender_toa: int | None = None
    smsc: str | None = None
    sent_at: str | None = None
    text: str | None = None
    concat_ref: int | None = None
    concat_total: int | None = None
    concat_seq: int | None = None
    case_id: int | None = None
    handled_at: str | None = None  # NULL while a part of a long SMS waits for its siblings
    modem: str = ""  # the pool's modem it came in on ('' before schema 7)
    sender_token: str | None = None  # the sender's token (``sealing/keys.py``)


@dataclass(frozen=True)
class CaseDetail:
    """A case with everything ``cases show`` prints."""

    case: Case
    messages: tuple[InboundRecord, ...]
    events: tuple[CaseEvent, ...]
    outbox: tuple[OutboxItem, ...]
    earlier: TrackRecord | None = None  # None: no number to tell of (undecodable SMS)
    related: tuple[Case, ...] = ()  # the other cases of its incident, oldest first


@dataclass(frozen=True)
class CaseQuery:
    """Filters of ``cases list``; ``since``/``until`` are stored-format times."""

    statuses: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    search: str | None = None
    reporter: str | None = None
    assigned: str | None = None  # any case: "Budi" finds budi's
    categories: tuple[str, ...] = ()
    place: str | None = None  # every word of it in the case's place
    min_fake: int | None = None  # its number sent at least this many fake reports before
    limit: int | None = 50
    offset: int = 0  # skip this many of the newest matches (a page further)
    dispatched: bool = False  # only cases sent to officers (``cases dispatch``)
    unassigned: bool = False  # only cases nobody is assigned to
    sort: str = "newest"  # newest, oldest, or urgent (open urgent cases, then newest)
    urgent: bool = False  # only urgent cases
    # Only cases overdue: (status, the stored time before which a case in it is late).
    overdue: tuple[tuple[str, str], ...] | None = None
    # True: only open urgent cases (the list's lead); False: all but them.
    lead: bool | None = None


@dataclass(frozen=True)
class NewCase:
    """A case to create; the store gives it a ticket.

    ``status`` and ``first_action_at`` exist for importing earlier records
    (``Store.cases.import_many``); a case created now is always new.
    """

    reporter: str
    text: str
    channel: str = "sms"
    received_at: str | None = None
    incomplete: bool = False
    flags: tuple[str, ...] = ()
    status: str = "new"
    first_action_at: str | None = None
    category: str | None = None
    place: str | None = None
    incident_id: int | None = None
    urgent: tuple[str, ...] = ()  # the urgent words intake found (none: not urgent)


@dataclass(frozen=True)
class Stats:
    since: str | None
    until: str | None
    total: int
    by_status: dict[str, int]
    by_day: tuple[tuple[str, int], ...]
    fake_share: float | None
    median_first_action_seconds: float | None
    top_fake_reporters: tuple[tuple[str, int], ...] = field(default=())
    # Most first: (category, cases, fake ones); "-" for cases from before categories.
    by_category: tuple[tuple[str, int, int], ...] = field(default=())
    # Each day's cases by status (days with none left out), oldest first.
    by_day_status: tuple[tuple[str, dict[str, int]], ...] = field(default=())
    by_hour: tuple[int, ...] = field(default=(0,) * 24)  # hours of the operators' zone
    # Now, whatever the window: open cases by status, and the oldest case nobody has
    # acted on yet (ticket, received_at).
    open_backlog: dict[str, int] = field(default_factory=dict)
    oldest_unhandled: tuple[str, str] | None = None
    # Operators' actions in the window (status, note, assignment, reply, corrections).
    by_operator: tuple[tuple[str, int], ...] = field(default=())


@dataclass(frozen=True)
class BriefingCase:
    """A case the briefing lists by name (late or urgent)."""

    ticket: str
    status: str
    category: str | None
    place: str | None
    received_at: str
    updated_at: str
    text: str
    assigned_to: str | None


@dataclass(frozen=True)
class Briefing:
    """The morning briefing (``smsbridge report --html``): the window's cases and, as
    of ``now``, what is open, late and urgent. Counts by label are in display order."""

    since: str | None
    until: str | None
    now: str
    total: int
    by_day_category: tuple[tuple[str, dict[str, int]], ...]
    fakes_by_day: tuple[tuple[str, int, int], ...]  # day, cases, fakes
    first_action: tuple[tuple[str, int], ...]  # report to first action, by delay
    median_first_action_seconds: float | None
    answer: tuple[tuple[str, int], ...]  # dispatch to an officer's answer, by delay
    median_answer_seconds: float | None
    dispatched: int
    answered: int
    backlog_by_age: tuple[tuple[str, dict[str, int]], ...]
    overdue: tuple[BriefingCase, ...]
    overdue_count: int
    urgent: tuple[BriefingCase, ...]
    urgent_count: int
    top_places: tuple[tuple[str, int], ...]
    by_hour: tuple[int, ...]
    officers: tuple[tuple[str, int, int], ...]  # officer, cases dispatched, answered
