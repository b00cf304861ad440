"""Ticket numbers and the status workflow (pure: no I/O, no clock).

A ticket is the configured prefix, a dash and a zero-padded number: ``LP-000042``.
Numbers come from one counter, so a ticket is unique and tickets grow with time.
The prefix may not contain O or I (config.py refuses them) and the rest is digits,
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

from smsbridge.errors import InvalidInput, InvalidTransition

MAX_TICKET_LENGTH = 12

OPEN_STATUSES = ("new", "checking", "confirmed")
CLOSED_STATUSES = ("resolved", "fake", "duplicate")
STATUSES = OPEN_STATUSES + CLOSED_STATUSES

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
        raise InvalidInput(
            f"ticket number {number} does not fit {MAX_TICKET_LENGTH} characters with prefix "
            f"{prefix!r}: choose a shorter prefix or fewer [tickets] digits"
        )
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
        raise InvalidInput(f"empty ticket number; expected something like {example}")
    body = compact
    has_prefix = bool(prefix) and compact.startswith(prefix.upper())
    if has_prefix:
        body = compact[len(prefix):]
    elif compact[0].isalpha() and not compact.translate(_LOOKALIKES).isdigit():
        letters = re.match(r"[A-Z]*", compact).group(0)
        raise InvalidInput(
            f"{raw!r} is not a ticket of this line: prefix {letters} is not {prefix.upper()!r} "
            f"(expected something like {example})"
        )
    body = body.translate(_LOOKALIKES)
    if not body.isdigit() or not body.isascii():
        raise InvalidInput(f"{raw!r} is not a ticket number; expected something like {example}")
    if not has_prefix and len(body.lstrip("0")) > digits + 1:
        raise InvalidInput(
            f"{raw!r} looks like a phone number, not a ticket; write it with its prefix, "
            f"like {example}"
        )
    if len(body) > MAX_TICKET_LENGTH:
        raise InvalidInput(f"{raw!r} is too long for a ticket; expected something like {example}")
    number = int(body)
    if number < 1:
        first = format_ticket(1, prefix, digits)
        raise InvalidInput(f"{raw!r} is not a ticket number; tickets start at {first}")
    return number


def check_status(name: str) -> str:
    """A status name as typed (any case) -> the stored name, or InvalidInput."""
    status = name.strip().lower()
    if status not in STATUSES:
        raise InvalidInput(f"unknown status {name!r}; statuses are: {', '.join(STATUSES)}")
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
        raise InvalidTransition(ticket, current, wanted, allowed, hint=f"it already is {current}")
    if wanted not in allowed:
        raise InvalidTransition(ticket, current, wanted, allowed)
    if is_reopen(current, wanted) and not (note and note.strip()):
        raise InvalidTransition(ticket, current, wanted, allowed,
                                hint="reopening a closed case needs a --note saying why")
    if wanted == "duplicate" and not duplicate_of:
        raise InvalidInput(f"marking {ticket} as duplicate needs --duplicate-of TICKET")
    if duplicate_of and wanted != "duplicate":
        raise InvalidInput("--duplicate-of goes with status duplicate")
