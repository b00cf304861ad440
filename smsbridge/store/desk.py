"""What the operators' desk reads beyond a list of cases: how many match.

``cases list`` shows a page; this says how many cases its filters match in all, so
an operator knows there are more ("50 of 1,284 shown").
"""

from __future__ import annotations

from smsbridge.models import CaseQuery
from smsbridge.store import rows
from smsbridge.store.cases import adjacent, fts_query
from smsbridge.store.db import Database


class Desk:
    """Reads for the desk over the cases table and its indexes."""

    def __init__(self, db: Database):
        self._db = db

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
