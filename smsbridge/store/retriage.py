"""Category and place decided again: when a follow-up completes a report, and for the
cases of older versions (``smsbridge cases retriage``).

A decision an operator made (a ``category`` or ``place`` event by anyone but the
daemon) is never overturned. Every change is one ``triage`` line in the case's
history: not an operator's action, so it neither counts in ``stats`` nor marks the
case as acted on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smsbridge.store.db import Database
from smsbridge.triage.places import place_words

# Where ``cases retriage --redo`` got to, per --since, so a run stopped half-way goes on.
CHECKPOINT = "retriage:"


@dataclass(frozen=True)
class Decided:
    """A case's category and place as triage decides them now."""

    case_id: int
    category: str
    place: str | None


class Retriage:
    def __init__(self, db: Database, *, login: str | None = None):
        self._db = db
        self._login = login

    def operator_set(self, case_id: int, *, daemon: str) -> bool:
        """Whether someone other than the daemon set the case's category or place."""
        return self._db.one(
            "SELECT 1 FROM case_events WHERE case_id = ? AND action IN ('category', 'place')"
            " AND operator != ? LIMIT 1", (case_id, daemon)) is not None

    def earliest_sent(self, *, case_id: int | None = None, message_ids: Sequence[int] = ()
                      ) -> str | None:
        """The SMS centre's earliest time stamp among a case's messages, or among
        ``message_ids`` (stored in UTC, so they compare as text)."""
        if case_id is not None:
            return self._db.scalar("SELECT min(sent_at) FROM messages INDEXED BY messages_case"
                                   " WHERE case_id = ?", (case_id,))
        if not message_ids:
            return None
        marks = ", ".join("?" for _ in message_ids)
        return self._db.scalar(f"SELECT min(sent_at) FROM messages WHERE id IN ({marks})",
                               list(message_ids))

    def apply(self, found: Sequence[Decided], *, operator: str, why: str) -> int:
        """Store the decisions that change something, one history line each, in one
        transaction; returns how many cases changed."""
        changed = 0
        now = self._db.now()
        with self._db.transaction():
            for decided in found:
                row = self._db.one("SELECT category, place FROM cases WHERE id = ?",
                                   (decided.case_id,))
                if row is None or (row[0], row[1]) == (decided.category, decided.place):
                    continue
                self._db.execute(
                    "UPDATE cases SET category = ?, place = ?, place_words = ? WHERE id = ?",
                    (decided.category, decided.place,
                     place_words(decided.place) if decided.place else None, decided.case_id))
                self._db.execute(
                    "INSERT INTO case_events (case_id, at, operator, login, action, note)"
                    " VALUES (?, ?, ?, ?, 'triage', ?)",
                    (decided.case_id, now, operator, self._login,
                     f"category {row[0] or '-'} -> {decided.category}, place {row[1] or '-'}"
                     f" -> {decided.place or '-'} ({why})"))
                changed += 1
        return changed

    def batch(self, *, after: int, limit: int, since: str | None = None, redo: bool = False,
              daemon: str = "daemon") -> list[tuple[int, str]]:
        """The next ``limit`` cases after id ``after`` to decide again, as (id, text):
        those with no category (from before triage), or with ``redo`` every one whose
        category and place no operator set."""
        where = ["c.id > ?"]
        params: list[object] = [after]
        if since is not None:
            where.append("c.received_at >= ?")
            params.append(since)
        if not redo:
            where.append("c.category IS NULL")
        else:
            where.append("NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id"
                         " AND e.action IN ('category', 'place') AND e.operator != ?)")
            params.append(daemon)
        return [(r[0], r[1]) for r in self._db.all(
            f"SELECT c.id, c.text FROM cases c WHERE {' AND '.join(where)}"
            " ORDER BY c.id LIMIT ?", [*params, limit])]

    def checkpoint(self, key: str) -> int:
        value = self._db.scalar("SELECT value FROM daemon_state WHERE key = ?",
                                (CHECKPOINT + key,))
        return int(value) if value else 0

    def save_checkpoint(self, key: str, last: int | None) -> None:
        with self._db.transaction():
            if last is None:
                self._db.execute("DELETE FROM daemon_state WHERE key = ?", (CHECKPOINT + key,))
            else:
                self._db.execute(
                    "INSERT INTO daemon_state (key, value, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at", (CHECKPOINT + key, str(last),
                                                          self._db.now()))
