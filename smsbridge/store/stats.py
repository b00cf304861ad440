"""The line's figures for ``smsbridge stats``: by status, by day, fakes, speed."""

from __future__ import annotations

from smsbridge import tickets
from smsbridge.models import CaseQuery, Stats
from smsbridge.store.db import Database
from smsbridge.store.rows import case_filters


def case_stats(db: Database, *, since: str | None = None, until: str | None = None,
               top: int = 5, utc_offset_seconds: int = 0) -> Stats:
    """Counts for the window [since, until): by status, by day, fakes, speed.

    Days are counted in the zone ``utc_offset_seconds`` east of UTC (the
    operators' local time: Indonesia has no daylight saving time).
    """
    where, params = case_filters(CaseQuery(since=since, until=until))
    # Every query reads only the covering index cases_received (migration 0004):
    # named, so a planner without ANALYZE figures cannot pick a table scan.
    source = "cases c INDEXED BY cases_received"
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    by_status = {status: 0 for status in tickets.STATUSES}
    days: dict[str, int] = {}
    with db.snapshot():
        for day, status, count in db.iterate(
                f"SELECT date(received_at, '{int(utc_offset_seconds):+d} seconds'), status,"
                f" count(*) FROM {source}{clause} GROUP BY 1, 2", params):
            by_status[status] += count
            days[day] = days.get(day, 0) + count
        delays = [r[0] for r in db.iterate(
            "SELECT (julianday(first_action_at) - julianday(received_at)) * 86400"
            f" FROM {source} WHERE {' AND '.join([*where, 'first_action_at IS NOT NULL'])}",
            params)]
        fakes = " AND ".join([*where, "c.status = 'fake'"])
        top_fake = tuple((r[0], r[1]) for r in db.all(
            f"SELECT reporter, count(*) AS n FROM {source} WHERE {fakes}"
            " GROUP BY reporter ORDER BY n DESC, reporter LIMIT ?", [*params, top]))
        # The category is not in the covering index: a window's rows are read from the
        # table, one pass, found along the received index.
        by_category = tuple((r[0], r[1], r[2]) for r in db.all(
            "SELECT coalesce(category, '-'), count(*) AS n, sum(status = 'fake')"
            f" FROM cases c INDEXED BY cases_received{clause} GROUP BY 1 ORDER BY n DESC, 1",
            params))
    by_day = tuple(sorted(days.items()))
    total = sum(by_status.values())
    return Stats(
        since=since, until=until, total=total, by_status=by_status, by_day=by_day,
        fake_share=(by_status["fake"] / total) if total else None,
        median_first_action_seconds=_median(delays),
        top_fake_reporters=top_fake, by_category=by_category,
    )


def _median(values: list[float]) -> float | None:
    """The middle value (the mean of the two middle ones), None for no values."""
    if not values:
        return None
    values.sort()
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
