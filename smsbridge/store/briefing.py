"""The morning briefing's figures (``smsbridge report --html``): what came in over a
window, by day and category, how fast the desk and the field moved, and what is open,
late or urgent now."""

from __future__ import annotations

import sqlite3
import statistics
from datetime import datetime, timedelta

from smsbridge import tickets
from smsbridge.models import Briefing, BriefingCase, CaseQuery, to_iso
from smsbridge.store.db import Database
from smsbridge.store.rows import case_filters
from smsbridge.store.schema import sql_list
from smsbridge.store.stats import hour_window, on_the_hour

# How long a case may sit in a status before it is late, until the desk's own
# ``[desk] deadlines`` reach this branch: a new report untouched for half an hour, one
# being checked unanswered for a day.
DEFAULT_DEADLINES = {"new": timedelta(minutes=30), "checking": timedelta(hours=24)}
# The open backlog's ages, upper bounds in hours; the last has none.
AGES = (("< 1 h", 1), ("1-6 h", 6), ("6-24 h", 24), ("1-3 d", 72), ("3-7 d", 168),
        ("> 7 d", None))
# Delays (report to first action, dispatch to answer), upper bounds in minutes.
DELAYS = (("< 5 min", 5), ("5-15 min", 15), ("15-60 min", 60), ("1-4 h", 240),
          ("4-24 h", 1440), ("> 1 d", None))
LISTED = 10
OPEN = f"status IN ({sql_list(tickets.OPEN_STATUSES)})"


def briefing(db: Database, *, now: datetime, since: str | None = None,
             until: str | None = None, utc_offset_seconds: int = 0,
             deadlines: dict[str, timedelta] | None = None, top: int = 10) -> Briefing:
    """The briefing's figures for cases received in [since, until), and the backlog,
    late and urgent cases as of ``now``; days and hours in the zone
    ``utc_offset_seconds`` east of UTC."""
    deadlines = DEFAULT_DEADLINES if deadlines is None else deadlines
    where, params = case_filters(CaseQuery(since=since, until=until))
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    source = "cases c INDEXED BY cases_received"
    shift = f"'{int(utc_offset_seconds):+d} seconds'"
    now_iso = to_iso(now)
    days: dict[str, dict[str, int]] = {}
    fakes: dict[str, int] = {}
    # Windows on the hour (typed as dates) add up the tallies of migration 0010.
    tallied = on_the_hour(since) and on_the_hour(until) and utc_offset_seconds % 3600 == 0
    hour_terms, hour_params = hour_window(since, until)
    with db.snapshot():
        for day, category, count, fake in (db.iterate(
                f"SELECT date(hour || ':00:00', {shift}), CASE category WHEN '' THEN '-'"
                " ELSE category END, sum(cases), sum(fakes) FROM case_hour_categories"
                f" WHERE {hour_terms} GROUP BY 1, 2", hour_params) if tallied else db.iterate(
                f"SELECT date(received_at, {shift}), coalesce(category, '-'), count(*),"
                f" sum(status = 'fake') FROM {source}{clause} GROUP BY 1, 2", params)):
            if count:
                days.setdefault(day, {})[category] = count
                fakes[day] = fakes.get(day, 0) + fake
        delays = [r[0] for r in db.iterate(
            "SELECT (julianday(first_action_at) - julianday(received_at)) * 86400"
            f" FROM {source} WHERE {' AND '.join([*where, 'first_action_at IS NOT NULL'])}",
            params)]
        hours = [0] * 24
        for hour, count in (db.iterate(
                f"SELECT CAST(strftime('%H', hour || ':00:00', {shift}) AS INTEGER),"
                f" sum(cases) FROM case_hours WHERE {hour_terms} GROUP BY 1", hour_params)
                if tallied else db.iterate(
                f"SELECT CAST(strftime('%H', received_at, {shift}) AS INTEGER), count(*)"
                f" FROM {source}{clause} GROUP BY 1", params)):
            hours[hour] = count
        places = tuple((r[0], r[1]) for r in db.all(
            f"SELECT place, count(*) AS n FROM {source}"
            f" WHERE {' AND '.join([*where, 'place IS NOT NULL'])}"
            " GROUP BY place COLLATE NOCASE ORDER BY n DESC, 1 LIMIT ?", [*params, top]))
        field_clause = "".join(f" AND {w}" for w in where)
        officers = tuple((r[0], r[1], r[2]) for r in db.all(
            "SELECT d.officer, count(DISTINCT d.case_id) AS n, count(DISTINCT a.case_id)"
            # From the window's cases to their dispatches, not the other way round.
            " FROM cases c INDEXED BY cases_received CROSS JOIN dispatches d"
            " ON d.case_id = c.id"
            " LEFT JOIN field_answers a ON a.case_id = d.case_id AND a.officer = d.officer"
            f" AND a.accepted = 1 WHERE 1 = 1{field_clause}"
            " GROUP BY d.officer ORDER BY n DESC, 1", params))
        field = db.all(
            "SELECT c.received_at, min(d.at) AS sent,"
            " (SELECT min(a.at) FROM field_answers a WHERE a.case_id = c.id"
            "  AND a.accepted = 1) AS answered"
            " FROM cases c INDEXED BY cases_received CROSS JOIN dispatches d"
            f" ON d.case_id = c.id WHERE 1 = 1{field_clause} GROUP BY c.id", params)
        backlog = _backlog(db, now)
        late, late_count = _late(db, now, deadlines)
        urgent, urgent_count = _urgent(db)
    answers = [_seconds(r["sent"], r["answered"]) for r in field if r["answered"]]
    total = sum(sum(c.values()) for c in days.values())
    return Briefing(
        since=since, until=until, now=now_iso, total=total,
        by_day_category=tuple((d, days[d]) for d in sorted(days)),
        fakes_by_day=tuple((d, sum(days[d].values()), fakes[d]) for d in sorted(days)),
        first_action=_buckets(delays),
        median_first_action_seconds=statistics.median(delays) if delays else None,
        answer=_buckets(answers),
        median_answer_seconds=statistics.median(answers) if answers else None,
        dispatched=len(field), answered=len(answers),
        backlog_by_age=backlog, overdue=late, overdue_count=late_count,
        urgent=urgent, urgent_count=urgent_count, top_places=places,
        by_hour=tuple(hours), officers=officers)


def _seconds(start: str, end: str) -> float:
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start))
               .total_seconds())


def _buckets(seconds: list[float]) -> tuple[tuple[str, int], ...]:
    counts = [0] * len(DELAYS)
    for value in seconds:
        minutes = value / 60
        for i, (_, bound) in enumerate(DELAYS):
            if bound is None or minutes < bound:
                counts[i] += 1
                break
    return tuple((label, n) for (label, _), n in zip(DELAYS, counts, strict=True))


def _backlog(db: Database, now: datetime) -> tuple[tuple[str, dict[str, int]], ...]:
    """Open cases by how long ago they came in, and by status: counts of index ranges
    (newer than each bound), not an expression over every open case."""
    bounds = [to_iso(now - timedelta(hours=h)) for _, h in AGES if h is not None]
    counts: list[dict[str, int]] = [{} for _ in AGES]
    for status in tickets.OPEN_STATUSES:
        newer = [int(db.scalar("SELECT count(*) FROM cases INDEXED BY cases_open"
                               f" WHERE {OPEN} AND status = ? AND received_at > ?",
                               (status, bound))) for bound in bounds]
        total = int(db.scalar(f"SELECT count(*) FROM cases INDEXED BY cases_open"
                              f" WHERE {OPEN} AND status = ?", (status,)))
        previous = 0
        for i, n in enumerate([*newer, total]):
            if n - previous:
                counts[i][status] = n - previous
            previous = n
    return tuple((label, counts[i]) for i, (label, _) in enumerate(AGES))


def _late(db: Database, now: datetime, deadlines: dict[str, timedelta]
          ) -> tuple[tuple[BriefingCase, ...], int]:
    """Open cases past their status's deadline, the longest late first: a new case
    nobody has acted on since it came in, another status since its last change."""
    terms, params = [], []
    for status, limit in deadlines.items():
        since = "received_at" if status == "new" else "updated_at"
        untouched = " AND first_action_at IS NULL" if status == "new" else ""
        terms.append(f"(status = ? AND {since} < ?{untouched})")
        params += [status, to_iso(now - limit)]
    if not terms:
        return (), 0
    # The open statuses named as the index names them, so the planner may use it.
    where = f"{OPEN} AND ({' OR '.join(terms)})"
    count = db.scalar(f"SELECT count(*) FROM cases INDEXED BY cases_open WHERE {where}",
                      params)
    rows = db.all(f"SELECT {_COLUMNS} FROM cases INDEXED BY cases_open WHERE {where}"
                  " ORDER BY CASE status WHEN 'new' THEN received_at ELSE updated_at END"
                  " LIMIT ?", [*params, LISTED])
    return tuple(_case(r) for r in rows), int(count or 0)


def _urgent(db: Database) -> tuple[tuple[BriefingCase, ...], int]:
    """Open cases intake found urgent ([desk] urgent words), oldest first."""
    terms = f"{OPEN} AND urgent = 1"
    count = db.scalar(f"SELECT count(*) FROM cases INDEXED BY cases_urgent WHERE {terms}")
    rows = db.all(f"SELECT {_COLUMNS} FROM cases INDEXED BY cases_urgent WHERE {terms}"
                  " ORDER BY received_at LIMIT ?", [LISTED])
    return tuple(_case(r) for r in rows), int(count or 0)


_COLUMNS = "ticket, status, category, place, received_at, updated_at, text, assigned_to"


def _case(row: sqlite3.Row) -> BriefingCase:
    return BriefingCase(ticket=row["ticket"], status=row["status"], category=row["category"],
                        place=row["place"], received_at=row["received_at"],
                        updated_at=row["updated_at"], text=row["text"],
                        assigned_to=row["assigned_to"])
