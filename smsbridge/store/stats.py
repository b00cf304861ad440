"""The line's figures for ``smsbridge stats``: by status, by day, fakes, speed, by
category, hour and operator, and the backlog as it stands."""

from __future__ import annotations

import statistics

from smsbridge import tickets
from smsbridge.models import CaseQuery, Stats
from smsbridge.store.db import Database
from smsbridge.store.rows import case_filters
from smsbridge.store.schema import sql_list

# What counts as an operator's action in ``stats``: the daemon's own lines (created,
# follow-up, flag) and looks (reveal) do not.
ACTIONS = ("status", "duplicate", "note", "assign", "reply", "category", "place")


def case_stats(db: Database, *, since: str | None = None, until: str | None = None,
               top: int = 5, utc_offset_seconds: int = 0, daemon: str | None = None) -> Stats:
    """Counts for the window [since, until): by status, by day, fakes, speed, category,
    hour and operator; and, as of now, the open backlog and the oldest unhandled case.

    Days and hours are counted in the zone ``utc_offset_seconds`` east of UTC (the
    operators' zone: Indonesia has no daylight saving time). ``daemon`` is the name
    the daemon writes in histories: its lines are not operators' actions.
    """
    where, params = case_filters(CaseQuery(since=since, until=until))
    # Every query reads only the covering index cases_received (migration 0004):
    # named, so a planner without ANALYZE figures cannot pick a table scan.
    source = "cases c INDEXED BY cases_received"
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    shift = f"'{int(utc_offset_seconds):+d} seconds'"
    by_status = {status: 0 for status in tickets.STATUSES}
    days: dict[str, dict[str, int]] = {}
    with db.snapshot():
        for day, status, count in db.iterate(
                f"SELECT date(received_at, {shift}), status,"
                f" count(*) FROM {source}{clause} GROUP BY 1, 2", params):
            by_status[status] += count
            days.setdefault(day, {})[status] = count
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
        hours = [0] * 24
        for hour, count in db.iterate(
                f"SELECT CAST(strftime('%H', received_at, {shift}) AS INTEGER), count(*)"
                f" FROM {source}{clause} GROUP BY 1", params):
            hours[hour] = count
        backlog = {r[0]: r[1] for r in db.all(
            "SELECT status, count(*) FROM cases INDEXED BY cases_status"
            f" WHERE status IN ({sql_list(tickets.OPEN_STATUSES)}) GROUP BY 1")}
        oldest = db.one("SELECT ticket, received_at FROM cases INDEXED BY cases_status"
                        " WHERE status = 'new' AND first_action_at IS NULL ORDER BY id LIMIT 1")
        by_operator = _actions(db, since, until, daemon)
    total = sum(by_status.values())
    return Stats(
        since=since, until=until, total=total, by_status=by_status,
        by_day=tuple((day, sum(counts.values())) for day, counts in sorted(days.items())),
        fake_share=(by_status["fake"] / total) if total else None,
        median_first_action_seconds=(statistics.median(delays) if delays else None),
        top_fake_reporters=top_fake, by_category=by_category,
        by_day_status=tuple(sorted(days.items())), by_hour=tuple(hours),
        open_backlog={s: backlog.get(s, 0) for s in tickets.OPEN_STATUSES},
        oldest_unhandled=(oldest[0], oldest[1]) if oldest else None,
        by_operator=by_operator,
    )


def _actions(db: Database, since: str | None, until: str | None, daemon: str | None
             ) -> tuple[tuple[str, int], ...]:
    where = [f"action IN ({sql_list(ACTIONS)})"]
    params: list[str] = []
    for term, value in (("at >= ?", since), ("at < ?", until), ("operator != ?", daemon)):
        if value is not None:
            where.append(term)
            params.append(value)
    return tuple((r[0], r[1]) for r in db.all(
        "SELECT operator, count(*) AS n FROM case_events INDEXED BY case_events_at"
        f" WHERE {' AND '.join(where)} GROUP BY 1 ORDER BY n DESC, 1", params))

