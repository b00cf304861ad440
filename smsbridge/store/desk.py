"""What the operators' desk reads beyond a list of cases.

How many cases a list's filters match in all ("50 of 1,284 shown"); what each
case's number reported before (its track record, told without the number); the
open reports a new one may repeat (intake's facts for ``triage.relate``); the
changes ``cases watch`` shows as other processes commit them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from smsbridge import tickets
from smsbridge.errors import InvalidInput
from smsbridge.models import Case, CaseDetail, CaseEvent, CaseQuery, Change, TrackRecord
from smsbridge.store import rows
from smsbridge.store.cases import Cases, adjacent, fts_query
from smsbridge.store.db import Database
from smsbridge.store.schema import sql_list
from smsbridge.triage.rules import Report


class Desk:
    """Reads for the desk over the cases table and its indexes, and the one change
    that spans many cases (``merge``), made through ``cases``' own update."""

    def __init__(self, db: Database, cases: Cases):
        self._db = db
        self._cases = cases

    def count(self, query: CaseQuery) -> int:
        """How many cases match ``query``'s filters, whatever its limit and offset."""
        where, params = rows.case_filters(query)
        if not query.search:
            clause = (" WHERE " + " AND ".join(where)) if where else ""
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
        table, and from cases_forgotten_key for the ones whose number was forgotten.
        Cases of no number (``unknown``: an undecodable SMS) have none."""
        out: dict[int, TrackRecord] = {}
        for case in cases:
            if case.reporter == unknown or case.id in out:
                continue
            counts: dict[str, int] = {r[0]: r[1] for r in self._db.all(
                "SELECT status, count(*) FROM cases INDEXED BY cases_reporter"
                " WHERE reporter = ? AND id < ? GROUP BY status", (case.reporter, case.id))}
            # Its number's cases whose number retention forgot: found by the pseudonym
            # the daemon gave this case ([retention]).
            for status, n in self._db.all(
                    "SELECT status, count(*) FROM cases INDEXED BY cases_forgotten_key"
                    " WHERE forgotten_at IS NOT NULL AND reporter_key = (SELECT reporter_key"
                    " FROM cases WHERE id = ? AND forgotten_at IS NULL) AND id < ?"
                    " GROUP BY status", (case.id, case.id)):
                counts[status] = counts.get(status, 0) + n
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
              note: str | None = None) -> list[Case]:
        """Mark ``others`` duplicates of ``original``, all or none; with no ``others``,
        every open case of ``original``'s incident. The workflow (``tickets``) refuses
        what it always refuses: a closed case, a cycle of duplicates."""
        with self._db.transaction():
            target = self._cases.get(original)
            if others:
                tickets_ = list(dict.fromkeys(others))
            else:
                tickets_ = [c.ticket for c in self.related(target)
                            if c.status in tickets.OPEN_STATUSES]
            if not tickets_:
                raise InvalidInput(f"{target.ticket} has no open related reports to mark; "
                                   "name them: cases merge "
                                   f"{target.ticket} TICKET…")
            return [self._cases.update(t, operator=operator, status="duplicate",
                                       duplicate_of=target.ticket, note=note)
                    for t in tickets_]

    # what happens as it happens (cases watch) --------------------------------------------

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
        where, params = rows.case_filters(query)
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
