"""The line's figures for ``smsbridge stats``: by status, by day, fakes, speed, by
category, hour and operator, and the backlog as it stands."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any

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
    shift = f"'{int(utc_offset_seconds):+d} seconds'"
    by_status = {status: 0 for status in tickets.STATUSES}
    days: dict[str, dict[str, int]] = {}
    tallied = on_the_hour(since) and on_the_hour(until) and utc_offset_seconds % 3600 == 0
    with db.snapshot():
        for day, status, count in (_tallied_days(db, since, until, shift) if tallied else
                                   _counted_days(db, where, params, shift)):
            if count:
                by_status[status] += count
                days.setdefault(day, {})[status] = count
        if since is None and until is None:
            median = median_of_tally(db.all(
                "SELECT seconds, cases FROM case_delays WHERE cases > 0 ORDER BY seconds"))
        else:
            delays = [r[0] for r in db.iterate(
                "SELECT (julianday(first_action_at) - julianday(received_at)) * 86400"
                f" FROM {source} WHERE"
                f" {' AND '.join([*where, 'first_action_at IS NOT NULL'])}", params)]
            median = statistics.median(delays) if delays else None
        fakes = " AND ".join([*where, "c.status = 'fake'"])
        top_fake = tuple((r[0], r[1]) for r in db.all(
            # Counted on the covering index by token; only the top few are then read
            # for the mask to show.
            "SELECT (SELECT shown(x.reporter_sealed, x.reporter_mask, x.reporter) FROM cases x"
            " INDEXED BY cases_reporter WHERE x.reporter = t.reporter LIMIT 1), t.n FROM"
            f" (SELECT reporter, count(*) AS n FROM {source} WHERE {fakes}"
            " GROUP BY reporter ORDER BY n DESC, reporter LIMIT ?) t", [*params, top]))
        by_category = _tallied_categories(db, since, until) if tallied else \
            _counted_categories(db, where, params)
        hours = [0] * 24
        for hour, count in (_tallied_hours(db, since, until, shift) if tallied else
                            _counted_hours(db, where, params, shift)):
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
        median_first_action_seconds=median,
        top_fake_reporters=top_fake, by_category=by_category,
        by_day_status=tuple(sorted(days.items())), by_hour=tuple(hours),
        open_backlog={s: backlog.get(s, 0) for s in tickets.OPEN_STATUSES},
        oldest_unhandled=(oldest[0], oldest[1]) if oldest else None,
        by_operator=by_operator,
    )


def on_the_hour(moment: str | None) -> bool:
    """Whether a stored time (UTC, "2026-12-01T17:00:00+00:00") starts an hour: windows
    from typed dates do in zones of whole hours, and the tallies answer them."""
    return moment is None or (moment[13:19] == ":00:00" and moment.endswith("+00:00"))


def hour_window(since: str | None, until: str | None) -> tuple[str, list[str]]:
    """WHERE terms on a tally's ``hour`` for [since, until) (both on the hour)."""
    terms, params = ["cases != 0"], []
    if since is not None:
        terms.append("hour >= ?")
        params.append(since[:13])
    if until is not None:
        terms.append("hour < ?")
        params.append(until[:13])
    return " AND ".join(terms), params


def _tallied_days(db: Database, since: str | None, until: str | None, shift: str
                  ) -> Iterable[Any]:
    where, params = hour_window(since, until)
    return db.iterate(f"SELECT date(hour || ':00:00', {shift}), status, sum(cases)"
                      f" FROM case_hours WHERE {where} GROUP BY 1, 2", params)


def _counted_days(db: Database, where: list[str], params: list[Any], shift: str
                  ) -> Iterable[Any]:
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return db.iterate(f"SELECT date(received_at, {shift}), status, count(*)"
                      f" FROM cases c INDEXED BY cases_received{clause} GROUP BY 1, 2", params)


def _tallied_hours(db: Database, since: str | None, until: str | None, shift: str
                   ) -> Iterable[Any]:
    where, params = hour_window(since, until)
    return db.iterate(f"SELECT CAST(strftime('%H', hour || ':00:00', {shift}) AS INTEGER),"
                      f" sum(cases) FROM case_hours WHERE {where} GROUP BY 1", params)


def _counted_hours(db: Database, where: list[str], params: list[Any], shift: str
                   ) -> Iterable[Any]:
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return db.iterate(f"SELECT CAST(strftime('%H', received_at, {shift}) AS INTEGER),"
                      f" count(*) FROM cases c INDEXED BY cases_received{clause} GROUP BY 1",
                      params)


def _tallied_categories(db: Database, since: str | None, until: str | None
                        ) -> tuple[tuple[str, int, int], ...]:
    where, params = hour_window(since, until)
    return tuple((r[0], r[1], r[2]) for r in db.all(
        "SELECT CASE category WHEN '' THEN '-' ELSE category END, sum(cases) AS n,"
        f" sum(fakes) FROM case_hour_categories WHERE {where} GROUP BY 1 HAVING n > 0"
        " ORDER BY n DESC, 1", params))


def _counted_categories(db: Database, where: list[str], params: list[Any]
                        ) -> tuple[tuple[str, int, int], ...]:
    # The category is not in the covering index: a window's rows are read from the
    # table, one pass, found along the received index.
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return tuple((r[0], r[1], r[2]) for r in db.all(
        "SELECT coalesce(category, '-'), count(*) AS n, sum(status = 'fake')"
        f" FROM cases c INDEXED BY cases_received{clause} GROUP BY 1 ORDER BY n DESC, 1",
        params))


def median_of_tally(rows: Sequence[Any]) -> float | None:
    """The median of values given as (value, how many) rows, in order."""
    total = sum(n for _, n in rows)
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found: list[float] = []
    seen = 0
    for value, n in rows:
        while wanted and wanted[0] < seen + n:
            found.append(float(value))
            wanted.pop(0)
        seen += n
    return sum(found) / 2


def _actions(db: Database, since: str | None, until: str | None, daemon: str | None
             ) -> tuple[tuple[str, int], ...]:
    where = [f"action IN ({sql_list(ACTIONS)})"]
    params: list[str] = []
    for term, value in (("at >= ?", since), ("at < ?", until), ("operator != ?", daemon)):
        if value is not None:
            where.append(term)
            params.append(value)
    return tuple((r[0], r[1]) for r in db.all(
        "SELECT operator, count(*) AS n FROM case_events INDEXED BY case_events_action"
        f" WHERE {' AND '.join(where)} GROUP BY 1 ORDER BY n DESC, 1", params))

