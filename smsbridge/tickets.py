"""Ticket numbers and the status workflow (pure: no I/O, no clock).

A ticket is the configured prefix, a dash and a zero-padded number: ``LP-000042``.
Numbers come from one counter, so a ticket is unique and tickets grow with time.
The prefix may not contain O or I (the config refuses them) and the rest is digits,
so nothing reads two ways; when a citizen or operator types one back anyway, an
O is read as 0 and an I or l as 1.

Workflow::

    new -> checking -> confirmed -> resolved
    new | checking -> fake
    new | checking | confirmed -> duplicate (of another ticket)
    resolved | fake | duplicate -> new | checking | confirmed   (reopen: needs a note)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from smsbridge.errors import InvalidInput, InvalidTransition, UnknownTicket
from smsbridge.i18n import NP_, _, pgettext

MAX_TICKET_LENGTH = 12

OPEN_STATUSES = ("new", "checking", "confirmed")
CLOSED_STATUSES = ("resolved", "fake", "duplicate")
STATUSES = OPEN_STATUSES + CLOSED_STATUSES
# What the desk reads for each status; the database, --json and CSV keep the codes.
_STATUS_NAMES = (NP_("status", "new"), NP_("status", "checking"), NP_("status", "confirmed"),
                 NP_("status", "resolved"), NP_("status", "fake"), NP_("status", "duplicate"))
# The Indonesian words a status may be typed as, whatever language the desk reads (the
# catalogue's names first, then the words officers and the desk also use).
STATUS_WORDS = {
    "baru": "new", "dicek": "checking", "diperiksa": "checking", "dicheck": "checking",
    "terkonfirmasi": "confirmed", "dikonfirmasi": "confirmed", "benar": "confirmed",
    "selesai": "resolved", "tuntas": "resolved", "palsu": "fake", "hoaks": "fake",
    "duplikat": "duplicate", "ganda": "duplicate",
}

_FORWARD: dict[str, tuple[str, ...]] = {
    "new": ("checking", "fake", "duplicate"),
    "checking": ("confirmed", "fake", "duplicate"),
    "confirmed": ("resolved", "duplicate"),
    "resolved": OPEN_STATUSES,
    "fake": OPEN_STATUSES,
    "duplicate": OPEN_STATUSES,
}

_SEPARATORS = re.compile(r"[\s\-_./#:]+")
# Letters people type for digits they misread; see the module docstring.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def format_ticket(number: int, prefix: str = "LP", digits: int = 6) -> str:
    """``LP-000042``; past ``digits`` digits the number simply grows, up to 12 characters."""
    if number < 1:
        raise ValueError(f"ticket numbers start at 1, got {number}")
    body = f"{number:0{digits}d}"
    ticket = f"{prefix.upper()}-{body}" if prefix else body
    if len(ticket) > MAX_TICKET_LENGTH:
        raise InvalidInput(_(
            "ticket number {number} does not fit {count} characters with prefix {prefix!r}: "
            "choose a shorter prefix or fewer [tickets] digits").format(
                number=number, count=MAX_TICKET_LENGTH, prefix=prefix))
    return ticket


def parse_ticket(text: str, prefix: str = "LP", digits: int = 6) -> int:
    """The number of a ticket typed by a person: ``lp-000042``, ``LP42``, ``lp 42``, ``42``.

    Case, separators and leading zeros do not matter. A bare number is accepted up to
    ``digits + 1`` digits; a longer one is more likely a phone number than a ticket
    (the ambiguous case), so it must carry the prefix.
    """
    raw = text
    compact = _SEPARATORS.sub("", text.strip()).upper()
    example = format_ticket(42, prefix, digits)
    if not compact:
        raise InvalidInput(_("empty ticket number; expected something like {example}").format(
            example=example))
    body = compact
    has_prefix = bool(prefix) and compact.startswith(prefix.upper())
    if has_prefix:
        body = compact[len(prefix):]
    elif compact[0].isalpha() and not compact.translate(_LOOKALIKES).isdigit():
        letters = re.sub(r"[^A-Z].*", "", compact, flags=re.S)
        raise InvalidInput(_(
            "{typed!r} is not a ticket of this line: prefix {letters} is not {prefix!r} "
            "(expected something like {example})").format(
                typed=raw, letters=letters, prefix=prefix.upper(), example=example))
    body = body.translate(_LOOKALIKES)
    if not body.isdigit() or not body.isascii():
        raise InvalidInput(_("{typed!r} is not a ticket number; expected something like "
                             "{example}").format(typed=raw, example=example))
    if not has_prefix and len(body.lstrip("0")) > digits + 1:
        raise InvalidInput(_(
            "{typed!r} looks like a phone number, not a ticket; write it with its prefix, "
            "like {example}").format(typed=raw, example=example))
    if len(body) > MAX_TICKET_LENGTH:
        raise InvalidInput(_("{typed!r} is too long for a ticket; expected something like "
                             "{example}").format(typed=raw, example=example))
    number = int(body)
    if number < 1:
        first = format_ticket(1, prefix, digits)
        raise InvalidInput(_("{typed!r} is not a ticket number; tickets start at {first}")
                           .format(typed=raw, first=first))
    return number


def status_name(status: str) -> str:
    """A status as the desk reads it, in the installed language."""
    return pgettext("status", status)


def check_status(name: str) -> str:
    """A status name as typed (any case, English or Indonesian) -> the stored name, or
    InvalidInput listing the statuses in the desk's language."""
    status = name.strip().lower()
    status = STATUS_WORDS.get(status, status)
    if status not in STATUSES:
        raise InvalidInput(_("unknown status {typed!r}; statuses are: {names}").format(
            typed=name, names=", ".join(status_name(s) for s in STATUSES)))
    return status


def allowed_next(current: str) -> tuple[str, ...]:
    return _FORWARD[current]


def is_reopen(current: str, wanted: str) -> bool:
    return current in CLOSED_STATUSES and wanted in OPEN_STATUSES


def check_transition(ticket: str, current: str, wanted: str, *, note: str | None,
                     duplicate_of: str | None) -> None:
    """Raise InvalidTransition/InvalidInput unless ``current -> wanted`` is allowed."""
    allowed = allowed_next(current)
    if wanted == current:
        raise InvalidTransition(ticket, current, wanted, allowed, hint=_(
            "it already is {status}").format(status=status_name(current)))
    if wanted not in allowed:
        raise InvalidTransition(ticket, current, wanted, allowed)
    if is_reopen(current, wanted) and not (note and note.strip()):
        raise InvalidTransition(ticket, current, wanted, allowed,
                                hint=_("reopening a closed case needs a --note saying why"))
    if wanted == "duplicate" and not duplicate_of:
        raise InvalidInput(_("marking {ticket} as duplicate needs --duplicate-of TICKET")
                           .format(ticket=ticket))
    if duplicate_of and wanted != "duplicate":
        raise InvalidInput(_("--duplicate-of goes with status {status}").format(
            status=status_name("duplicate")))


# --- an operator's update of a case (``cases update``) -----------------------------


@dataclass(frozen=True)
class CaseFacts:
    """What the workflow needs to know about a case."""

    id: int
    ticket: str
    status: str
    assigned_to: str | None = None
    category: str | None = None
    place: str | None = None


@dataclass(frozen=True)
class UpdateRequest:
    """What an operator asked for, checked by ``check_update``. ``place=""`` clears
    the place; ``category`` is a name of the configured categories."""

    status: str | None = None
    note: str | None = None
    assign: str | None = None
    duplicate_of: str | None = None
    category: str | None = None
    place: str | None = None


@dataclass(frozen=True)
class Event:
    """One line of a case's history to write."""

    action: str
    old_status: str | None = None
    new_status: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class CaseUpdate:
    """What to change: columns of the case (``duplicate_of`` is the other case's id)
    and one event per change. No events: nothing changes."""

    columns: dict[str, object] = field(default_factory=dict)
    events: tuple[Event, ...] = ()


def check_update(*, status: str | None = None, note: str | None = None,
                 assign: str | None = None, duplicate_of: str | None = None,
                 category: str | None = None, place: str | None = None) -> UpdateRequest:
    """What can be refused before looking at the case; marking a duplicate implies the
    status."""
    if status is None and duplicate_of is not None:
        status = "duplicate"
    if status is None and note is None and assign is None and category is None \
            and place is None:
        raise InvalidInput(_("nothing to update: give --status, --note, --assign, "
                             "--duplicate-of, --category or --place"))
    if note is not None and not note.strip():
        raise InvalidInput(_("the note is empty"))
    if category is not None and not category.strip():
        raise InvalidInput(_("the category is empty; every case has one (other for none)"))
    wanted = check_status(status) if status is not None else None
    return UpdateRequest(status=wanted, note=note, assign=assign, duplicate_of=duplicate_of,
                         category=category, place=place)


def plan_update(case: CaseFacts, request: UpdateRequest, *,
                duplicate: CaseFacts | InvalidInput | UnknownTicket | None = None,
                duplicate_chain: Sequence[CaseFacts] = ()) -> CaseUpdate:
    """The changes an update makes, or the error that refuses it (pure).

    ``duplicate`` is the case named by ``request.duplicate_of`` when the request marks
    a duplicate, or the error looking it up met (an unknown or mistyped ticket): the
    workflow's own refusals come first, as an operator fixes them first.
    ``duplicate_chain`` are the cases that one is in turn a duplicate of, nearest
    first (following ``duplicate_of``): a duplicate must lead to an original, so a
    chain back to ``case`` is refused.
    """
    columns: dict[str, object] = {}
    events: list[Event] = []
    note = request.note
    wanted = request.status
    if wanted is not None:
        check_transition(case.ticket, case.status, wanted, note=note,
                         duplicate_of=request.duplicate_of)
        columns["status"] = wanted
        action = "status"
        if wanted == "duplicate":
            if isinstance(duplicate, (InvalidInput, UnknownTicket)):
                raise duplicate
            if duplicate is None:
                raise ValueError("plan_update needs the facts of the case named by "
                                 "duplicate_of")
            if duplicate.id == case.id:
                raise InvalidInput(_("{ticket} cannot be a duplicate of itself").format(
                    ticket=case.ticket))
            _refuse_cycle(case, duplicate, duplicate_chain)
            columns["duplicate_of"] = duplicate.id
            action = "duplicate"
            note = f"duplicate of {duplicate.ticket}" + (f": {note}" if note else "")
        elif case.status == "duplicate":
            columns["duplicate_of"] = None
        events.append(Event(action, case.status, wanted, note))
    elif note is not None:
        events.append(Event("note", note=note))
    if request.assign is not None:
        name = request.assign.strip() or None
        if name != case.assigned_to:
            columns["assigned_to"] = name
            events.append(Event("assign", note=f"assigned to {name}" if name else "unassigned"))
    if request.category is not None and request.category != case.category:
        columns["category"] = request.category
        events.append(Event("category", note=f"category {case.category or '-'} -> "
                                              f"{request.category}"))
    if request.place is not None:
        place = " ".join(request.place.split()) or None
        if place != case.place:
            columns["place"] = place
            events.append(Event("place", note=f"place {case.place or '-'} -> {place or '-'}"))
    return CaseUpdate(columns, tuple(events))


def _refuse_cycle(case: CaseFacts, duplicate: CaseFacts, chain: Sequence[CaseFacts]) -> None:
    ids = [c.id for c in chain]
    if case.id not in ids:
        return
    path = [duplicate.ticket, *(c.ticket for c in chain[:ids.index(case.id) + 1])]
    said = _(", which is a duplicate of ").join(path[1:])
    raise InvalidInput(_("{ticket} cannot be a duplicate of {other}: {other} is already a "
                         "duplicate of {chain}; reopen {other} first if it is the original")
                       .format(ticket=case.ticket, other=duplicate.ticket, chain=said))


# What may end a ticket typed at the start of a text.
_ENDS = ".,:;!?-"


def ticket_token(prefix: str) -> re.Pattern[str]:
    """A ticket as people type it at the start of a text: the prefix optional and in
    any case, separators, a number that may hold O, I and l for 0 and 1 (as
    tickets.parse_ticket reads them) but holds a digit. A verification word must
    never read as one, or an answer could not tell its word from its ticket."""
    lead = f"(?:{re.escape(prefix)})?[\\s\\-_./#:]*" if prefix else ""
    return re.compile(rf"{lead}[0-9OoIl]*[0-9][0-9OoIl]*(?=$|[\s{re.escape(_ENDS)}])",
                      re.IGNORECASE)


def read_ticket(text: str, prefix: str = "LP", digits: int = 6) -> tuple[int, str] | None:
    """The ticket ``text`` opens with, as its number, and the text after it; None when
    it opens with none of this line's tickets.

    The one grammar of a ticket typed in an SMS: a citizen's CEK (``replies``), an
    officer's answer (``fieldwork.answers``), read as ``parse_ticket`` reads what
    operators type: ``LP-000148?``, ``lp_000123``, ``LP/123``, ``lp 42``.
    """
    body = text.lstrip()
    found = ticket_token(prefix).match(body)
    if found is None:
        return None
    try:
        number = parse_ticket(found.group(0), prefix, digits)
        format_ticket(number, prefix, digits)
    except InvalidInput:
        return None
    return number, body[found.end():]
