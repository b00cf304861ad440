"""The audit log: every look at reporters' identities, by whom, even when it found nothing.

A lookup by number (``cases list --reporter``, ``messages --sender`` with a number) tells
whether a number reported, so it is recorded like a reveal of that number. Each row
keeps the OS account (``identity.os_login``) beside the name the operator gave, and the
numbers only masked. The table refuses UPDATE and DELETE (triggers of migration 0006).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from smsbridge.models import AuditEntry
from smsbridge.store.db import Database

# How many tickets or ids an audit line names before it only counts the rest.
_NAMED = 20


def found(what: str, names: Sequence[str]) -> str:
    """``2 cases: LP-000001, LP-000003``, ``no case``: what a look showed."""
    if not names:
        return f"no {what}"
    plural = what if len(names) == 1 else f"{what}s"
    listed = ", ".join(names[:_NAMED])
    more = f" and {len(names) - _NAMED} more" if len(names) > _NAMED else ""
    return f"{len(names)} {plural}: {listed}{more}"


class AuditLog:
    """The audit_log table. ``login`` is the OS account of this process, stamped on
    every row it writes (and on every case event, by ``Cases``)."""

    def __init__(self, db: Database, login: str):
        self._db = db
        self.login = login

    def record(self, action: str, detail: str, *, operator: str) -> None:
        """One row (inside the caller's transaction, so a look that cannot be recorded
        is not shown either)."""
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO audit_log (at, login, operator, action, detail)"
                " VALUES (?, ?, ?, ?, ?)",
                (self._db.now(), self.login, operator, action, detail))

    def entries(self, *, since: str | None = None, until: str | None = None,
                limit: int | None = None) -> list[AuditEntry]:
        """Rows of the window [since, until), newest first."""
        where: list[str] = []
        params: list[Any] = []
        if since:
            where.append("at >= ?")
            params.append(since)
        if until:
            where.append("at < ?")
            params.append(until)
        sql = ("SELECT id, at, login, operator, action, detail FROM audit_log"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC")
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [AuditEntry(**dict(row)) for row in self._db.all(sql, params)]
