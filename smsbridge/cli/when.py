"""When an operator types a time: --since and --until as days, ISO times, a day's word
(today, kemarin) or a time ago (7d, 24h), read in the desk's zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from smsbridge.errors import InvalidInput
from smsbridge.i18n import _
from smsbridge.models import to_iso

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_AGO = re.compile(r"(\d{1,5})\s*(d|h|m|hari|jam|menit)")
# Days as a desk says them, in English and Indonesian: how many days before today.
_DAY_WORDS = {"today": 0, "hari-ini": 0, "hariini": 0, "yesterday": 1, "kemarin": 1}
_AGO_UNITS = {"d": "days", "hari": "days", "h": "hours", "jam": "hours", "m": "minutes",
              "menit": "minutes"}


def parse_when(text: str, *, option: str, end_of_day: bool = False,
               zone: tzinfo | None = None) -> str:
    """``YYYY-MM-DD``, an ISO 8601 datetime, a day's word (``today``, ``yesterday``,
    ``hari-ini``, ``kemarin``) or a time ago (``7d``, ``24h``, ``30m``) -> the stored
    form (UTC with offset).

    A bare day (or a day's word) means midnight in ``zone`` (None: the box's zone);
    with ``end_of_day`` (for ``--until``) the midnight after it, so ``--until
    2024-05-01`` includes that whole day. A datetime without an offset is a time in ``zone``.
    """
    value = text.strip()
    word = value.lower().replace(" ", "-")
    ago = _AGO.fullmatch(value.lower())
    if ago:
        delta = timedelta(**{_AGO_UNITS[ago.group(2)]: int(ago.group(1))})
        return to_iso(datetime.now(UTC) - delta)
    try:
        if word in _DAY_WORDS or _DAY.fullmatch(value):
            day = (datetime.now(zone).date() - timedelta(days=_DAY_WORDS[word])
                   if word in _DAY_WORDS else date.fromisoformat(value))
            if end_of_day:
                day += timedelta(days=1)
            return to_iso(datetime.combine(day, time(), tzinfo=zone))
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None and zone is not None:
            moment = moment.replace(tzinfo=zone)
        return to_iso(moment)
    except (ValueError, OverflowError):  # OverflowError: a day at the calendar's edge
        raise InvalidInput(
            _("{option} {typed!r} is not a date; use YYYY-MM-DD, an ISO 8601 time such as "
              "2024-05-01T14:30+07:00, today, yesterday (hari-ini, kemarin) or 7d, 24h"
              ).format(option=option, typed=text)
        ) from None


def window(since: str | None, until: str | None, *, zone: tzinfo | None = None,
           default_since: str | None = None) -> tuple[str | None, str | None]:
    """``--since`` and ``--until`` as typed -> stored times; a window that ends before
    it starts is refused rather than shown as an empty list."""
    start = parse_when(since, option="--since", zone=zone) if since else default_since
    end = parse_when(until, option="--until", end_of_day=True, zone=zone) if until else None
    if start is not None and end is not None and end <= start:
        raise InvalidInput(_("--since {since} is not before --until {until}: the window is "
                             "empty; swap them").format(since=since or start, until=until))
    return start, end


def days_ago(days: int, zone: tzinfo | None = None) -> str:
    today = datetime.now(zone).date()
    return to_iso(datetime.combine(today - timedelta(days=days), time(), tzinfo=zone))
