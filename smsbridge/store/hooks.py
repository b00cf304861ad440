"""The hook queues, run by ``smsbridge.hooks``: one row per new case to announce to
other systems, written in the transaction that creates the case, and one row per alert
about the line itself (a stick low on credit or unable to send), which belongs to no
case. Both are retry queues."""

from __future__ import annotations

from smsbridge.models import Case
from smsbridge.store.cases import Cases
from smsbridge.store.db import Database
from smsbridge.store.queue import QueueTable, RetryQueue

# Urgent cases' hooks go first: what listens for them (a radio room) hears them first.
HOOKS = QueueTable("hooks", pending="done_at IS NULL",
                   order="(SELECT urgent FROM cases WHERE cases.id = hooks.case_id) DESC, id",
                   done="last_error = NULL")


ALERTS = QueueTable("hook_alerts", pending="done_at IS NULL", order="id",
                    done="last_error = NULL")


class HookQueue:
    def __init__(self, db: Database, cases: Cases):
        self._cases = cases
        self._db = db
        self.queue = RetryQueue(db, HOOKS)
        self.alerts = RetryQueue(db, ALERTS)

    def add(self, case_id: int, *, at: str, alert: str | None = None) -> None:
        """Announce a new case, or (``alert``) something the desk must act on about it."""
        self.queue.add({"case_id": case_id, "next_attempt_at": at, "alert": alert})

    def due(self, *, at: str, limit: int = 50) -> list[tuple[int, int, Case]]:
        """(hook id, attempts so far, the case) for each hook due at ``at``."""
        return [(r["id"], r["attempts"], self._cases.by_id(r["case_id"]))
                for r in self.queue.due(at=at, limit=limit)]

    def alert_of(self, hook_id: int) -> str | None:
        """What the desk must act on, for a hook that is an alert rather than a new case."""
        return self._db.scalar("SELECT alert FROM hooks WHERE id = ?", (hook_id,))

    def done(self, hook_id: int, *, at: str) -> None:
        self.queue.done(hook_id, done_at=at)

    def retry(self, hook_id: int, error: str, *, attempts: int, next_at: str) -> None:
        self.queue.retry(hook_id, error, attempts=attempts, next_at=next_at)

    def gave_up(self, hook_id: int, error: str, *, attempts: int) -> None:
        self.queue.gave_up(hook_id, error, attempts=attempts)

    # alerts about the line (no case) ------------------------------------------------------

    def add_alert(self, kind: str, subject: str, text: str, *, at: str) -> None:
        """Tell the hook about the line: ``kind`` ("credit"), ``subject`` (the modem)."""
        self.alerts.add({"at": at, "kind": kind, "subject": subject, "text": text,
                         "next_attempt_at": at})

    def due_alerts(self, *, at: str, limit: int = 50) -> list[tuple[int, int, dict[str, str]]]:
        """(alert id, attempts so far, what the hook receives) for each alert due."""
        return [(r["id"], r["attempts"], {"alert": r["text"], "kind": r["kind"],
                                          "modem": r["subject"], "at": r["at"]})
                for r in self.alerts.due(at=at, limit=limit)]
