"""What the operators' desk reads beyond a list of cases.

How many cases a list's filters match in all ("50 of 1,284 shown"); what each
case's number reported before (its track record, told without the number); the
open reports a new one may repeat (intake's facts for ``triage.relate``); the
changes ``cases watch`` shows as other processes commit them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from smsbridge import tickets
from smsbridge.errors import DatabaseError, InvalidInput, StoreError
from smsbridge.i18n import _
from smsbridge.models import Case, CaseDetail, CaseEvent, CaseQuery, Change, TrackRecord
from smsbridge.replies import Notices
from smsbridge.store import rows
from smsbridge.store.cases import Cases
from smsbridge.store.changes import CaseChanges
from smsbridge.store.db import Database
from smsbridge.store.schema import sql_list
from smsbridge.store.search import adjacent, fts_query
from smsbridge.triage.rules import Report

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    query: CaseQuery
    cases: list[Case]
    total: int  # how many match in all (with ``capped``: at least this many)
    earlier: dict[int, TrackRecord]
    related: dict[int, int]
    capped: bool = False


# How far ``cases list --min-fake`` counts its matches.
COUNT_CAP = 10_000


class Desk:
    """Reads for the desk over the cases table and its indexes, and the one change
    that spans many cases (``merge``), made through ``changes.change_case``."""

    def __init__(self, db: Database, cases: Cases, changes: CaseChanges):
        self._db = db
        self._cases = cases
        self._changes = changes

    def page(self, query: CaseQuery, *, operator: str, reveal: bool = False,
             track: bool = True) -> Page:
        """A page of ``cases list``: the cases (looked up as ``operator``, audited), how
        many match in all, and (``track``) each one's track record and related count."""
        cases = self._cases.lookup(query, operator=operator, reveal=reveal)
        # A short page tells the total itself; a full one (or none past --offset) asks.
        full = query.limit and (len(cases) == query.limit or (query.offset and not cases))
        # --min-fake asks, for every case of a number with N fakes, whether its N-th
        # came before: counting them all is most of the command's time on a big line,
        # so past COUNT_CAP the desk is told "10,000+" (the page itself is exact).
        cap = (max(COUNT_CAP, query.offset + (query.limit or 0) + 1)
               if query.min_fake and not query.search else None)
        total = self.count(query, at_most=cap) if full else query.offset + len(cases)
        return Page(query, cases, total, self.track_records(cases) if track else {},
                    self.related_counts(cases) if track else {},
                    capped=bool(cap is not None and full and total >= cap))

    def count(self, query: CaseQuery, *, at_most: int | None = None) -> int:
        """How many cases match ``query``'s filters, whatever its limit and offset;
        with ``at_most``, counted no further than that."""
        where, params = rows.case_filters(query, self._db.token)
        alone = dataclasses.replace(query, search=None, place=None, limit=None, offset=0,
                                    sort="newest", lead=None) == CaseQuery(limit=None)
        if alone and bool(query.search) != bool(query.place):
            # One text index answers alone, without reading a case.
            if query.place:
                where, params = rows.case_filters(CaseQuery(place=query.place))
                return int(self._db.scalar(
                    "SELECT count(*) FROM places_fts WHERE places_fts MATCH ?", params))
            if query.search and adjacent(query.search) is None:
                return int(self._db.scalar(
                    "SELECT count(*) FROM cases_fts WHERE cases_fts MATCH ?",
                    [fts_query(query.search)]))
        if query.min_fake:
            # Only numbers with that many fake reports in all can have had them before
            # a case: one pass over the partial index finds them, and only their cases
            # are counted.
            where.append("c.reporter IN (SELECT reporter FROM cases INDEXED BY"
                         " cases_fake_reporter WHERE status = 'fake' GROUP BY reporter"
                         " HAVING count(*) >= ?)")
            params.append(query.min_fake)
        if not query.search:
            clause = (" WHERE " + " AND ".join(where)) if where else ""
            if at_most is not None:
                return int(self._db.scalar(f"SELECT count(*) FROM (SELECT 1 FROM cases c"
                                           f"{clause} LIMIT ?)", [*params, at_most]))
            return int(self._db.scalar(f"SELECT count(*) FROM cases c{clause}", params))
        sql = ("FROM cases_fts f JOIN cases c ON c.id = f.rowid WHERE cases_fts MATCH ?"
               + "".join(" AND " + w for w in where))
        params = [fts_query(query.search), *params]
        together = adjacent(query.search)
        if together is None:
            return int(self._db.scalar(f"SELECT count(*) {sql}", params))
        return sum(1 for row in self._db.iterate(f"SELECT c.text {sql}", params)
                   if together(row[0]))

    def recent_open(self, category: str, *, since: str) -> list[Report]:
        """Open cases of ``category`` received at or after ``since``, newest first.

        Read along the received index: the window holds a few hundred cases however
        many a category has had in all.
        """
        return [Report(r[0], r[1], r[2], r[3], r[4]) for r in self._db.all(
            "SELECT c.id, c.category, c.place, c.text, c.incident_id"
            " FROM cases c INDEXED BY cases_received WHERE c.received_at >= ?"
            f" AND c.category = ? AND c.status IN ({sql_list(tickets.OPEN_STATUSES)})"
            " ORDER BY c.id DESC LIMIT 500", (since, category))]

    def track_records(self, cases: Iterable[Case], *, unknown: str = "unknown"
                      ) -> dict[int, TrackRecord]:
        """For each case, what its number reported before it (lower tickets): read from
        the index cases_reporter (reporter, status), a count per status, never the
        table. ``reporter`` is the number's token, which a case whose number retention
        forgot keeps. Cases of no number (``unknown``: an undecodable SMS) have none."""
        out: dict[int, TrackRecord] = {}
        for case in cases:
            if case.reporter == unknown or case.id in out:
                continue
            counts: dict[str, int] = {r[0]: r[1] for r in self._db.all(
                "SELECT status, count(*) FROM cases INDEXED BY cases_reporter"
                " WHERE reporter = ? AND id < ? GROUP BY status",
                (case.reporter_token or case.reporter, case.id))}
            out[case.id] = TrackRecord(
                earlier=sum(counts.values()),
                confirmed=counts.get("confirmed", 0) + counts.get("resolved", 0),
                fake=counts.get("fake", 0))
        return out

    def annotate(self, detail: CaseDetail) -> CaseDetail:
        """``detail`` with its number's track record and the other cases of its
        incident."""
        import dataclasses

        return dataclasses.replace(
            detail, earlier=self.track_records([detail.case]).get(detail.case.id),
            related=tuple(self.related(detail.case)))

    # possibly the same incident -------------------------------------------------------

    def related(self, case: Case) -> list[Case]:
        """The other cases of ``case``'s incident, oldest first."""
        if case.incident_id is None:
            return []
        return [rows.case(r) for r in self._db.all(
            f"SELECT {rows.CASE_COLUMNS} FROM {rows.CASE_FROM}"
            " WHERE c.incident_id = ? AND c.id != ? ORDER BY c.id",
            (case.incident_id, case.id))]

    def related_counts(self, cases: Iterable[Case]) -> dict[int, int]:
        """For each case of an incident, how many other cases it has (an index range
        per incident)."""
        incidents = {c.incident_id for c in cases if c.incident_id is not None}
        if not incidents:
            return {}
        sizes: dict[int, int] = {r[0]: r[1] for r in self._db.all(
            "SELECT incident_id, count(*) FROM cases INDEXED BY cases_incident"
            f" WHERE incident_id IN ({', '.join('?' * len(incidents))}) GROUP BY 1",
            sorted(incidents))}
        return {c.id: sizes.get(c.incident_id, 1) - 1 for c in cases
                if c.incident_id is not None}

    def merge(self, original: str, others: Sequence[str] = (), *, operator: str,
              notices: Notices, note: str | None = None) -> list[Case]:
        """Mark ``others`` duplicates of ``original``, all or none; with no ``others``,
        every open case of ``original``'s incident. The workflow (``tickets``) refuses
        what it always refuses: a closed case, a cycle of duplicates. Each reporter is
        told as ``notices`` says, as by any status change."""
        with self._db.transaction():
            target = self._cases.get(original)
            if others:
                tickets_ = list(dict.fromkeys(others))
            else:
                tickets_ = [c.ticket for c in self.related(target)
                            if c.status in tickets.OPEN_STATUSES]
            if not tickets_:
                raise InvalidInput(_("{ticket} has no open related reports to mark; name "
                                     "them: cases merge {ticket} TICKET…").format(
                                         ticket=target.ticket))
            return self._changes.merge(target.ticket, tickets_, operator=operator,
                                       notices=notices, note=note)

    def mark_urgent(self, case_id: int, found: Sequence[str], *, operator: str) -> None:
        """A case becomes urgent by a further SMS's words (an "urgent" history line)."""
        with self._db.transaction():
            if self._db.execute("UPDATE cases SET urgent = 1 WHERE id = ? AND urgent = 0",
                                (case_id,)).rowcount:
                self._cases.event(case_id, operator, "urgent",
                                  note=f"urgent: {', '.join(found)}")

    def in_bulk(self, tickets_: Sequence[str], change: Callable[[str], T]) -> list[T]:
        """``change(ticket)`` for each ticket in one transaction: all or none. The first
        refusal (an unknown ticket, a change the workflow does not allow) undoes the
        others and is raised naming its ticket, so an operator fixes the list and runs
        it again. Each change records its own history, as one at a time would."""
        if not tickets_:
            raise InvalidInput(_("no tickets given (name them, or - to read them from "
                                 "stdin)"))
        done: list[T] = []
        with self._db.transaction():
            for ticket in tickets_:
                try:
                    done.append(change(ticket))
                except DatabaseError:
                    raise
                except StoreError as exc:
                    if len(tickets_) == 1:
                        raise
                    # Two or more tickets here: one was raised as it is, above.
                    raise InvalidInput(_("{ticket}: {error}; none of the {count} cases was "
                                         "changed").format(ticket=ticket, error=exc,
                                                           count=len(tickets_))) from exc
        return done

    # what happens as it happens (cases watch) --------------------------------------------

    def pressure(self, cutoffs: Sequence[tuple[str, str]]) -> tuple[int, dict[str, int]]:
        """How many open cases are urgent, and how many of each status are overdue
        (``cutoffs``: a status and the time before which a case in it is late)."""
        urgent = int(self._db.scalar(
            "SELECT count(*) FROM cases INDEXED BY cases_urgent WHERE urgent = 1"
            f" AND status IN ({sql_list(tickets.OPEN_STATUSES)})"))
        overdue = {status: self.count(CaseQuery(overdue=((status, cutoff),), limit=None))
                   for status, cutoff in cutoffs}
        return urgent, overdue

    def crossed_deadline(self, query: CaseQuery, after: Sequence[tuple[str, str]],
                         before: Sequence[tuple[str, str]], *, limit: int = 200
                         ) -> list[Case]:
        """Cases matching ``query`` that became overdue between two moments: for each
        status, its deadline counts from a time in [after, before) (the cutoffs at
        those moments, ``triage.urgent.Deadlines.cutoffs``); oldest first."""
        start = dict(after)
        terms, params = [], []
        for status, cutoff in before:
            column = "received_at" if status == "new" else "updated_at"
            terms.append(f"(c.status = ? AND c.{column} >= ? AND c.{column} < ?)")
            params += [status, start.get(status, cutoff), cutoff]
        if not terms:
            return []
        where, more = rows.case_filters(query, self._db.token)
        return [rows.case(r) for r in self._db.all(
            f"SELECT {rows.CASE_COLUMNS} FROM {rows.CASE_FROM} WHERE ({' OR '.join(terms)})"
            f"{''.join(' AND ' + w for w in where)} ORDER BY c.id LIMIT ?",
            [*params, *more, limit])]

    def matches(self, query: CaseQuery, case_id: int | None) -> bool:
        """Whether the case ``case_id`` passes ``query``'s filters now."""
        if case_id is None:
            return False
        where, params = rows.case_filters(query, self._db.token)
        return self._db.one("SELECT 1 FROM cases c WHERE c.id = ?"
                            f"{''.join(' AND ' + w for w in where)}",
                            [case_id, *params]) is not None

    def data_version(self) -> int:
        """SQLite's count of commits by other connections, read from the shared WAL
        index (no disk read): it changes exactly when someone else committed."""
        return int(self._db.scalar("PRAGMA data_version"))

    def last_change_id(self) -> int:
        return int(self._db.scalar("SELECT coalesce(max(id), 0) FROM case_events"))

    def changes_after(self, event_id: int, query: CaseQuery, *, limit: int = 200,
                      skip: Sequence[str] = ("reveal",)) -> list[Change]:
        """History lines after ``event_id``, oldest first, of cases that match
        ``query``'s filters now; ``skip`` leaves out actions nobody watches for."""
        where, params = rows.case_filters(query, self._db.token)
        if skip:
            where.append(f"e.action NOT IN ({', '.join('?' * len(skip))})")
            params += list(skip)
        found = self._db.all(
            f"SELECT e.id, e.case_id, e.at, e.operator, e.action, e.old_status, e.new_status,"
            f" e.note, e.login, {rows.CASE_COLUMNS} FROM case_events e"
            " JOIN cases c ON c.id = e.case_id LEFT JOIN cases d ON d.id = c.duplicate_of"
            f" WHERE e.id > ? {''.join(' AND ' + w for w in where)} ORDER BY e.id LIMIT ?",
            [event_id, *params, limit])
        return [Change(CaseEvent(*r[:9]), rows.case(r[9:])) for r in found]

    def newest_changes(self, count: int, query: CaseQuery) -> list[Change]:
        """The last ``count`` matching history lines, oldest first (what ``watch``
        shows when it starts, so the screen is not empty)."""
        if count <= 0:
            return []
        last = self.last_change_id()
        # Look back further and further until enough lines match (they usually do at
        # once), never past the last 100,000 lines: a start must stay quick.
        step, found = count * 4, []
        while True:
            start = max(0, last - step)
            found = self.changes_after(start, query, limit=step)[-count:]
            if len(found) >= count or start == 0 or step >= 100_000:
                return found
            step *= 4
