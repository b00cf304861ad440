"""The one source of "now": a ``Clock`` is made at the top (the daemon, the CLI) and
handed down, so every time a row, a log line or a retry carries comes from one place
and a test can hold or move time instead of waiting for it.

Times are timezone-aware UTC; ``models.to_iso`` turns one into the stored form.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told: ``advance(minutes=31)`` stands for waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = (start or SystemClock().now()).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware time")
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **parts: float) -> None:
        """Move on by ``delta`` and/or ``timedelta(**parts)`` (``seconds=2``)."""
        self._now += (delta or timedelta()) + timedelta(**parts)
