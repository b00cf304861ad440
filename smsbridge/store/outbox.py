"""The outbox: SMS waiting to be sent, sent, delivered or given up (a retry queue).

Automatic replies are queued by the bridge in the transaction that stores the report;
operators' replies by ``cases reply``. The daemon sends one at a time, and a status
report from the network marks one delivered or failed.
"""

from __future__ import annotations

import json

from smsbridge.errors import InvalidInput
from smsbridge.models import OutboxItem
from smsbridge.store import rows
from smsbridge.store.cases import Cases
from smsbridge.store.db import Database
from smsbridge.store.queue import QueueTable, RetryQueue
from smsbridge.store.schema import OUTBOX_KINDS

OUTBOX = QueueTable(
    "outbox", pending="state = 'queued'", order="next_attempt_at, id",
    done="state = 'sent', attempts = attempts + 1, last_error = NULL, next_attempt_at = NULL",
    given_up="state = 'gave_up'")


class Outbox:
    def __init__(self, db: Database, cases: Cases):
        self._db = db
        self._cases = cases
        self.queue = RetryQueue(db, OUTBOX)

    def add(self, number: str, text: str, *, kind: str, created_by: str,
            case_id: int | None = None, at: str | None = None) -> OutboxItem:
        """Put one SMS in the outbox (state queued, due ``at``, default now)."""
        if kind not in OUTBOX_KINDS:
            raise InvalidInput(f"outbox kind {kind!r}; expected one of {', '.join(OUTBOX_KINDS)}")
        now = at or self._db.now()
        return rows.outbox(self.queue.add({
            "case_id": case_id, "number": number, "text": text, "kind": kind,
            "state": "queued", "created_at": now, "next_attempt_at": now,
            "created_by": created_by}))

    def add_reply(self, ticket: str, text: str, *, operator: str) -> OutboxItem:
        """Queue an operator's SMS to the case's reporter; the daemon sends it."""
        # Only `cases reply` comes here; every other command is spared the import.
        from smsbridge import replies

        body = replies.operator_reply_text(text)
        with self._db.transaction():
            case = self._cases.get(ticket)
            if not replies.can_receive_sms(case.reporter):
                raise InvalidInput(f"{case.ticket} came from a service ({case.reporter}), "
                                   "which cannot receive SMS")
            item = self.add(case.reporter, body, kind="operator", case_id=case.id,
                            created_by=operator)
            self._cases.event(case.id, operator, "reply", note=body)
            self._cases.touch(case.id)
            return item

    def next_due(self, *, at: str) -> OutboxItem | None:
        due = self.queue.due(at=at, limit=1)
        return rows.outbox(due[0]) if due else None

    def next_due_at(self) -> str | None:
        return self.queue.next_due_at()

    def backlog(self) -> int:
        """SMS waiting to be sent."""
        return self.queue.pending()

    def sent(self, outbox_id: int, refs: list[int], *, at: str) -> None:
        """Sent; ``refs`` are the message references of its parts (for status reports)."""
        self.queue.done(outbox_id, sent_at=at, refs=json.dumps(refs))

    def retry(self, outbox_id: int, error: str, *, attempts: int, next_at: str) -> None:
        self.queue.retry(outbox_id, error, attempts=attempts, next_at=next_at)

    def gave_up(self, outbox_id: int, error: str, *, attempts: int) -> None:
        """Never sent: the case's history says so, for an operator to call instead."""
        with self._db.transaction():
            row = self.queue.gave_up(outbox_id, error, attempts=attempts)
            if row and row["case_id"] is not None:
                self._cases.event(row["case_id"], row["created_by"], "reply_failed",
                                  note=f"SMS not sent after {attempts} attempts: {error}")

    def record_delivery(self, number: str, reference: int, *, delivered: bool, status: int,
                        at: str) -> bool:
        """Apply a status report to the SMS it answers; False when none matches."""
        with self._db.transaction():
            outbox_id = self._db.scalar(
                "SELECT id FROM outbox WHERE number = ? AND state IN ('sent', 'delivered')"
                " AND EXISTS (SELECT 1 FROM json_each(outbox.refs) WHERE value = ?)"
                " ORDER BY id DESC LIMIT 1", (number, reference))
            if outbox_id is None:
                return False
            if delivered:
                self._db.execute("UPDATE outbox SET state = 'delivered', delivered_at = ?"
                                 " WHERE id = ?", (at, outbox_id))
            else:
                self._db.execute("UPDATE outbox SET state = 'failed', last_error = ?"
                                 " WHERE id = ?",
                                 (f"not delivered (TP-ST 0x{status:02X})", outbox_id))
            return True

    def count_auto_replies(self, number: str | None = None, *, since: str) -> int:
        """Acknowledgements and status answers queued since then, to ``number`` or (None)
        to anyone: the per-number limit and the line's budget."""
        if number is None:
            return int(self._db.scalar(
                "SELECT count(*) FROM outbox INDEXED BY outbox_auto_created"
                " WHERE kind IN ('ack', 'status') AND created_at >= ?", (since,)))
        return int(self._db.scalar(
            "SELECT count(*) FROM outbox WHERE number = ? AND created_at >= ?"
            " AND kind IN ('ack', 'status')", (number, since)))
