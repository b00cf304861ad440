"""Forgetting what a closed case no longer needs: every statement of ``[retention]``.

A case closed long enough ago loses its reporter's sealed number and the raw SMS it
came in (the PDUs carry the number too): it keeps its mask and its token (the keyed
pseudonym ``#kpfmdaobhcje``, ``sealing/keys.py``), so the case still reads the same on a
screen, and the closed cases of one number still count together (stats' top fake
reporters, the earlier cases of a forgotten case) without anyone, the daemon included,
being able to dial or reveal that number. The replies to it lose their sealed copies
and its history's notes are masked. The case itself, its text, status and times,
stays: that is the desk's record.

Optionally a whole closed case is deleted after longer, with everything that refers
to it. Both work in batches, each one short transaction, oldest first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from smsbridge.privacy import mask_number, mask_numbers_in
from smsbridge.sealing.keys import TOKEN_MARK, is_token
from smsbridge.store.audit import AuditLog
from smsbridge.store.db import Database
from smsbridge.tickets import CLOSED_STATUSES

_CLOSED = ", ".join(f"'{s}'" for s in CLOSED_STATUSES)
# The masks older versions wrote into histories: "+62812****7110" shows 9 digits.
_OLD_MASK = re.compile(r"\+?[0-9]+\*{4}[0-9]+")
# Rows that refer to a case, deleted with it (the case's own row last).
# The reporter of a case whose SMS could not be decoded (bridge.UNKNOWN_SENDER).
_UNKNOWN = "unknown"
_CASE_ROWS = ("hooks", "outbox", "messages", "case_events", "dispatches", "field_answers")


@dataclass(frozen=True)
class Due:
    """What retention would do now."""

    numbers: int  # closed cases whose number would be forgotten
    messages: int  # of their messages that still hold a raw PDU or a sender
    cases: int  # closed cases that would be deleted


class Retention:
    def __init__(self, db: Database, audit: AuditLog):
        self._db = db
        self._audit = audit

    # what is due ----------------------------------------------------------------------

    def due(self, *, forget_before: str | None, delete_before: str | None) -> Due:
        """Counts of what a run with these cut-offs (stored times; None: never) would do."""
        numbers = messages = cases = 0
        if forget_before:
            numbers = int(self._db.scalar(
                f"SELECT count(*) FROM cases INDEXED BY cases_remembered WHERE forgotten_at"
                f" IS NULL AND updated_at < ? AND status IN ({_CLOSED})", (forget_before,)))
            messages = int(self._db.scalar(
                f"SELECT count(*) FROM messages WHERE case_id IN (SELECT id FROM cases"
                f" INDEXED BY cases_remembered WHERE forgotten_at IS NULL AND updated_at < ?"
                f" AND status IN ({_CLOSED}))", (forget_before,)))
        if delete_before:
            cases = int(self._db.scalar(
                f"SELECT count(*) FROM cases WHERE updated_at < ? AND status IN ({_CLOSED})",
                (delete_before,)))
        return Due(numbers, messages, cases)

    # forgetting ------------------------------------------------------------------------

    def forget_batch(self, before: str, limit: int, pseudonym: Callable[[str], str], *,
                     operator: str) -> int:
        """Forget the numbers of up to ``limit`` closed cases last changed before
        ``before``, oldest first, in one transaction; how many."""
        with self._db.transaction():
            rows = self._db.all(
                f"SELECT id, reporter FROM cases INDEXED BY cases_remembered"
                f" WHERE forgotten_at IS NULL AND updated_at < ? AND status IN ({_CLOSED})"
                f" ORDER BY updated_at LIMIT ?", (before, limit))
            for row in rows:
                self._forget(row["id"], row["reporter"], pseudonym, operator)
        return len(rows)

    def _forget(self, case_id: int, number: str, pseudonym: Callable[[str], str],
                operator: str) -> None:
        # A sealed case keeps its token (the pseudonym with its mark) and its mask and
        # loses the sealed copy; a case the sealing has not reached gets both now.
        if is_token(number):
            key, masked = number[len(TOKEN_MARK):], str(self._db.scalar(
                "SELECT coalesce(reporter_mask, '') FROM cases WHERE id = ?", (case_id,)))
        else:
            key, masked = pseudonym(number), mask_number(number)
        self._db.execute("UPDATE cases SET reporter = ?, reporter_sealed = NULL,"
                         " reporter_mask = ?, reporter_key = ?, forgotten_at = ? WHERE id = ?",
                         (TOKEN_MARK + key, masked, key, self._db.now(), case_id))
        # The raw PDU goes (its hash stays: it only ever matched a message listed again
        # after a crash, long past); the sender keeps its token and masked form.
        for message in self._db.all("SELECT id, sender, sender_mask FROM messages"
                                    " WHERE case_id = ?", (case_id,)):
            self._forget_message(message)
        for row in self._db.all("SELECT id, number, number_mask FROM outbox"
                                " WHERE case_id = ?", (case_id,)):
            old = row["number"] or ""
            self._db.execute(
                "UPDATE outbox SET number = ?, number_sealed = NULL, number_mask = ?"
                " WHERE id = ?",
                (old if is_token(old) else TOKEN_MARK + pseudonym(old),
                 row["number_mask"] if row["number_mask"] is not None else mask_number(old),
                 row["id"]))
        for event in self._db.all("SELECT id, note FROM case_events WHERE case_id = ?"
                                  " AND note IS NOT NULL", (case_id,)):
            note = mask_numbers_in(_OLD_MASK.sub(masked, event["note"]))
            if note != event["note"]:
                self._db.execute("UPDATE case_events SET note = ? WHERE id = ?",
                                 (note, event["id"]))
        self._db.execute(
            "INSERT INTO case_events (case_id, at, operator, login, action, note)"
            " VALUES (?, ?, ?, ?, 'number_forgotten', ?)",
            (case_id, self._db.now(), operator, self._audit.login,
             "reporter's number and raw SMS destroyed ([retention])"))

    def _forget_message(self, row: Any) -> None:
        sender = row["sender"]
        if sender is None or is_token(sender):
            self._db.execute("UPDATE messages SET pdu = '', sender_sealed = NULL,"
                             " sender_mask = coalesce(sender_mask, '') WHERE id = ?",
                             (row["id"],))
        else:  # not sealed yet: only its mask stays
            self._db.execute("UPDATE messages SET pdu = '', sender = NULL, sender_sealed = NULL,"
                             " sender_mask = ? WHERE id = ?", (mask_number(sender), row["id"]))

    def key_batch(self, limit: int, pseudonym: Callable[[str], str]) -> int:
        """Give up to ``limit`` cases without one their number's pseudonym (new cases,
        oldest first); how many. Cases of no number (``unknown``) get none."""
        with self._db.transaction():
            rows = self._db.all("SELECT id, reporter FROM cases INDEXED BY cases_unkeyed"
                                " WHERE reporter_key IS NULL ORDER BY id LIMIT ?", (limit,))
            self._db.executemany(
                "UPDATE cases SET reporter_key = ? WHERE id = ?",
                [(_pseudonym_of(row["reporter"], pseudonym), row["id"]) for row in rows])
        return len(rows)

    def forget_loose_batch(self, before: str, limit: int) -> int:
        """The raw PDUs and senders of up to ``limit`` handled messages of no case
        (CEK queries, service SMS, officers' answers) received before ``before``."""
        with self._db.transaction():
            rows = self._db.all(
                "SELECT id, sender, sender_mask FROM messages WHERE case_id IS NULL"
                " AND received_at < ? AND handled_at IS NOT NULL"
                " AND (pdu != '' OR sender_sealed IS NOT NULL) ORDER BY id LIMIT ?",
                (before, limit))
            for row in rows:
                self._forget_message(row)
        return len(rows)

    # deleting --------------------------------------------------------------------------

    def delete_batch(self, before: str, limit: int) -> Sequence[str]:
        """Delete up to ``limit`` closed cases last changed before ``before``, with every
        row that refers to them; their tickets."""
        with self._db.transaction():
            rows = self._db.all(
                f"SELECT id, ticket FROM cases WHERE updated_at < ? AND status IN ({_CLOSED})"
                f" ORDER BY updated_at LIMIT ?", (before, limit))
            ids = [row["id"] for row in rows]
            if ids:
                marks = ", ".join("?" * len(ids))
                for column in ("duplicate_of", "incident_id"):
                    self._db.execute(f"UPDATE cases SET {column} = NULL WHERE {column}"
                                     f" IN ({marks})", ids)
                for table in _CASE_ROWS:
                    self._db.execute(f"DELETE FROM {table} WHERE case_id IN ({marks})", ids)
                self._db.execute(f"DELETE FROM cases WHERE id IN ({marks})", ids)
        return [row["ticket"] for row in rows]

    def record(self, detail: str, *, operator: str) -> None:
        """One line in the audit log for a run that changed something."""
        self._audit.record("retention", detail, operator=operator)


def _pseudonym_of(reporter: str, pseudonym: Callable[[str], str]) -> str:
    if reporter == _UNKNOWN:
        return ""
    return reporter[len(TOKEN_MARK):] if is_token(reporter) else pseudonym(reporter)
