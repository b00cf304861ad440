"""A persistent retry queue: rows that something must be done for, tried until done or
given up, surviving restarts. The outbox (SMS to send) and the hooks table (new cases to
announce) are two of them.

Each row has ``attempts``, ``next_attempt_at`` (due when it is at or before now) and
``last_error``. A row given up keeps ``next_attempt_at`` NULL, so it stays visible with
its error and is never due again. How long to wait between attempts is the caller's
``retry.RetryPolicy``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from smsbridge.store.db import Database


@dataclass(frozen=True)
class QueueTable:
    """How a table holds its queue (SQL fragments written here, never from input)."""

    name: str
    pending: str  # a row not yet done nor given up, e.g. "state = 'queued'"
    order: str  # which due row comes first
    done: str  # SET terms of a finished row, beside the values done() is given
    given_up: str = ""  # SET terms of a given-up row, beside attempts and the error


class RetryQueue:
    def __init__(self, db: Database, table: QueueTable):
        self._db = db
        self.table = table

    def add(self, values: dict[str, Any]) -> sqlite3.Row:
        """Insert an item (due at its ``next_attempt_at``); returns its row."""
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        with self._db.transaction():
            row = self._db.one(f"INSERT INTO {self.table.name} ({columns}) VALUES ({marks})"
                               " RETURNING *", tuple(values.values()))
        assert row is not None  # INSERT … RETURNING gives its row
        return row

    def due(self, *, at: str, limit: int | None = None) -> list[sqlite3.Row]:
        """Items due at ``at``, first first."""
        sql = (f"SELECT * FROM {self.table.name} WHERE {self.table.pending}"
               f" AND next_attempt_at <= ? ORDER BY {self.table.order}")
        params: list[Any] = [at]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return self._db.all(sql, params)

    def next_due_at(self) -> str | None:
        """When the next pending item is due (None when none is pending)."""
        due: str | None = self._db.scalar(
            f"SELECT min(next_attempt_at) FROM {self.table.name} WHERE {self.table.pending}")
        return due

    def pending(self) -> int:
        return int(self._db.scalar(
            f"SELECT count(*) FROM {self.table.name} WHERE {self.table.pending}"))

    def retry(self, item_id: int, error: str, *, attempts: int, next_at: str) -> None:
        """An attempt failed; try again at ``next_at``."""
        with self._db.transaction():
            self._db.execute(f"UPDATE {self.table.name} SET attempts = ?, last_error = ?,"
                             " next_attempt_at = ? WHERE id = ?",
                             (attempts, error, next_at, item_id))

    def gave_up(self, item_id: int, error: str, *, attempts: int) -> sqlite3.Row | None:
        """The last attempt failed: never due again. Returns the row as it is now."""
        extra = f"{self.table.given_up}, " if self.table.given_up else ""
        with self._db.transaction():
            return self._db.one(
                f"UPDATE {self.table.name} SET {extra}attempts = ?, last_error = ?,"
                " next_attempt_at = NULL WHERE id = ? RETURNING *",
                (attempts, error, item_id))

    def done(self, item_id: int, **values: Any) -> None:
        """The item is done; ``values`` are columns to set with it (``sent_at=…``)."""
        sets = ", ".join([*(f"{column} = ?" for column in values), self.table.done])
        with self._db.transaction():
            self._db.execute(f"UPDATE {self.table.name} SET {sets} WHERE id = ?",
                             (*values.values(), item_id))
