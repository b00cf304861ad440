"""What the desk must see first, and what it let wait too long (pure: no I/O, no clock).

- a report is **urgent** when it names a weapon, an explosive or a person in danger:
  the ``[desk] urgent`` keywords (Indonesian slang by default), matched like the
  category keywords (whole words after folding case and stretched letters,
  ``word*`` for words starting with it). Intake flags the case once, when it opens it.
- an open case is **overdue** when it has stayed in its status longer than that
  status's ``[desk] deadlines`` ("new 30m": a new case untouched for half an hour;
  "checking 24h": a case out for checking unanswered for a day). A new case counts
  from when it arrived, any other from its last change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from smsbridge import tickets
from smsbridge.errors import InvalidInput
from smsbridge.i18n import _, pgettext
from smsbridge.triage.places import words
from smsbridge.triage.rules import Rules

_SPAN = re.compile(r"(\d{1,6})\s*(m|min|menit|h|j|jam|d|hari)")
_UNITS = {"m": 1, "min": 1, "menit": 1, "h": 60, "j": 60, "jam": 60, "d": 1440, "hari": 1440}


@dataclass(frozen=True)
class Urgent:
    """The urgent keywords, built once into one pattern."""

    rules: Rules = field(default_factory=Rules)

    @classmethod
    def from_keywords(cls, keywords: Iterable[str]) -> Urgent:
        return cls(Rules.from_mapping({"urgent": list(keywords)}))

    def words_in(self, text: str) -> tuple[str, ...]:
        """The urgent words ``text`` holds, each once, in the order they come; empty
        when it holds none."""
        if not self.rules.rules:
            return ()
        joined = " ".join(words(text))
        return tuple(dict.fromkeys(m.group(0) for m in self.rules.rules[0].pattern
                                   .finditer(joined)))


@dataclass(frozen=True)
class Deadlines:
    """How long each open status may last, in minutes; a status with none never runs
    late."""

    minutes: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Deadlines:
        """``["new 30m", "checking 24h", "confirmed 3d"]`` -> deadlines; anything else
        (a closed status, a span that is not one) is refused, naming the entry."""
        out: dict[str, int] = {}
        for entry in entries:
            parts = entry.strip().lower().split(None, 1)
            span = _SPAN.fullmatch(parts[1].strip()) if len(parts) == 2 else None
            if span is None or parts[0] not in tickets.OPEN_STATUSES:
                raise InvalidInput(_(
                    "deadline {entry!r} is not STATUS SPAN: an open status ({statuses}) "
                    "and 30m, 24h or 3d").format(
                        entry=entry, statuses=", ".join(tickets.OPEN_STATUSES)))
            out[parts[0]] = int(span.group(1)) * _UNITS[span.group(2)]
        return cls(out)

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        """For each status with a deadline, the moment before which a case in it is
        overdue now."""
        return {s: now - timedelta(minutes=m) for s, m in self.minutes.items() if m > 0}

    def late_by(self, status: str, since: datetime, now: datetime) -> timedelta | None:
        """How far past its deadline a case in ``status`` since ``since`` is; None when
        it is not late (or its status has no deadline)."""
        minutes = self.minutes.get(status)
        if not minutes:
            return None
        late = now - since - timedelta(minutes=minutes)
        return late if late > timedelta() else None


def status_since(status: str, received_at: str, updated_at: str) -> str:
    """When a case's clock for its deadline started: a new case when it arrived (a
    reporter's further SMS does not reset it), any other at its last change."""
    return received_at if status == "new" else updated_at


def span_text(delta: timedelta) -> str:
    """A short span for a table cell: "45m", "3h", "2d" (in the desk's language)."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return pgettext("span", "{count}m").format(count=max(minutes, 1))
    if minutes < 48 * 60:
        return pgettext("span", "{count}h").format(count=minutes // 60)
    return pgettext("span", "{count}d").format(count=minutes // 1440)
