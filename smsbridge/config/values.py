"""One key's value against its declaration in ``sections``, and a reply template's
placeholders: the checks every section shares."""

from __future__ import annotations

import dataclasses
import string
from typing import Any

from smsbridge.errors import ConfigError
from smsbridge.sms import pdu
from smsbridge.tickets import MAX_TICKET_LENGTH

# Room a template leaves for {status}: the longest of replies' status words fits in it
# (tests/test_replies.py checks).
STATUS_WORD_ROOM = 48

_TYPE_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
               list: "a list"}


def check_value(f: dataclasses.Field, value: Any, path: str | None, key: str) -> Any:
    default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
    expected = type(default)
    meta = f.metadata
    ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(f"expected {_TYPE_NAMES[expected]}, got {value!r}", path=path, key=key)
    if expected is list and not all(isinstance(v, str) for v in value):
        raise ConfigError("expected a list of strings", path=path, key=key)
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"expected one of {', '.join(meta['choices'])}, got {value!r}",
                          path=path, key=key)
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"expected a value from {lo:g} to {hi:g}, got {value!r}",
                          path=path, key=key)
    return value



def check_template(text: str, allowed: set[str], path: str | None, key: str) -> None:
    """Refuse a template that would fail when a reply is composed: bad braces, or a
    placeholder the reply does not fill."""
    if not text:
        return
    try:
        used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        raise ConfigError(f"not a valid template ({exc}); write braces as {{{{ }}}}",
                          path=path, key=key) from None
    unknown = used - allowed
    if unknown:
        names = ", ".join(f"{{{f}}}" for f in sorted(allowed))
        raise ConfigError(f"unknown placeholder {{{sorted(unknown)[0]}}}; allowed: {names}",
                          path=path, key=key)


def check_one_sms(text: str, prefix: str, path: str | None, key: str) -> None:
    """Refuse an automatic reply's template that would not fit ONE SMS with the longest
    ticket the line can have (and the longest status word): an automatic reply costs
    one SMS, whatever the citizen sent."""
    if not text:
        return
    ticket = (f"{prefix.upper()}-" if prefix else "")
    ticket += "9" * (MAX_TICKET_LENGTH - len(ticket))
    filled = text.format(ticket=ticket, status="x" * STATUS_WORD_ROOM)
    parts = pdu.parts_needed(filled)
    if parts > 1:
        raise ConfigError(f"an automatic reply must fit one SMS; this one takes {parts} with "
                          f"the longest ticket ({len(filled)} characters: at most 160, or "
                          "70 with letters outside the GSM alphabet)", path=path, key=key)
