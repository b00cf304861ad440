"""Inbound messages: every raw PDU the modem gave us, with what was decoded of it.

A part of a long SMS waits (``handled_at`` NULL) until its siblings arrive or the
part timeout gives up on them; everything else is handled in the transaction that
stores it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from smsbridge.errors import InvalidInput
from smsbridge.i18n import _
from smsbridge.models import InboundRecord
from smsbridge.privacy import mask_number
from smsbridge.store import rows
from smsbridge.store.audit import AuditLog, found
from smsbridge.store.db import Database
from smsbridge.store.schema import MESSAGE_KINDS


class Inbox:
    """The messages table."""

    def __init__(self, db: Database, *, audit: AuditLog):
        self._db = db
        self._audit = audit

    def seen(self, pdu_hash: str, modem: str = "") -> bool:
        """Stored before from ``modem`` (a crash between commit and delete lists it again
        there); rows older than the pool (modem '') count as any modem's."""
        return self._db.one("SELECT 1 FROM messages WHERE pdu_hash = ? AND modem IN (?, '')",
                            (pdu_hash, modem)) is not None

    def add(self, *, pdu_hash: str, pdu: str, kind: str, received_at: str,
            error: str | None = None, sender: str | None = None,
            sender_toa: int | None = None, smsc: str | None = None,
            sent_at: str | None = None, text: str | None = None,
            concat_ref: int | None = None, concat_total: int | None = None,
            concat_seq: int | None = None, modem: str = "") -> int:
        """Store one raw inbound PDU with what was decoded of it, and the modem it came
        in on; returns its id."""
        if kind not in MESSAGE_KINDS:
            raise InvalidInput(f"message kind {kind!r}")
        # Only a multi-part part waits for siblings; anything else is handled in the
        # same transaction that stores it.
        handled = None if concat_total and concat_total > 1 else received_at
        # The sender and the raw PDU (which carries the sender too) are kept sealed.
        who = self._db.stored(sender) if sender is not None else None
        sealed_pdu = self._db.seal_text(pdu) if pdu else pdu
        with self._db.transaction():
            return int(self._db.scalar(
                "INSERT INTO messages (pdu_hash, pdu, kind, error, sender, sender_sealed,"
                " sender_mask, sender_toa, smsc,"
                " sent_at, received_at, text, concat_ref, concat_total, concat_seq,"
                " handled_at, modem) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING id",
                (pdu_hash, sealed_pdu, kind, error, who and who.token, who and who.sealed,
                 who.mask if who else "", sender_toa, smsc, sent_at, received_at,
                 text, concat_ref, concat_total, concat_seq, handled, modem)))

    def waiting_parts(self, sender: str, reference: int, total: int, *, since: str,
                      modem: str = "") -> list[InboundRecord]:
        """Parts of one long SMS that have not made a case yet, oldest first. One SMS
        reaches one SIM: parts of the same text sent to two of the pool's numbers are
        two messages, never joined."""
        found = self._db.all(
            "SELECT * FROM messages WHERE sender = ? AND concat_ref = ? AND concat_total = ?"
            " AND handled_at IS NULL AND received_at >= ? AND modem IN (?, '') ORDER BY id",
            (self._db.token(sender), reference, total, since, modem))
        return [rows.inbound(r, self._db.shown, self._db.sealer) for r in found]

    def stale_part_groups(self, *, before: str) -> list[list[InboundRecord]]:
        """Groups of waiting parts whose first part arrived before ``before``."""
        found = self._db.all(
            "SELECT * FROM messages WHERE handled_at IS NULL AND concat_total > 1"
            " ORDER BY sender, concat_ref, concat_total, id")
        groups: dict[tuple[Any, ...], list[InboundRecord]] = {}
        for row in found:
            rec = rows.inbound(row, self._db.shown, self._db.sealer)
            groups.setdefault((rec.sender_token, rec.concat_ref, rec.concat_total, rec.modem),
                              []).append(rec)
        return [g for g in groups.values() if min(p.received_at for p in g) < before]

    def finish(self, message_ids: Iterable[int], *, at: str) -> None:
        """Mark waiting parts as dealt with (made a case, or kept without one)."""
        with self._db.transaction():
            self._db.executemany("UPDATE messages SET handled_at = ? WHERE id = ?",
                                 [(at, i) for i in message_ids])

    def attach(self, message_ids: Iterable[int], case_id: int) -> None:
        """These messages belong to the case, which last heard from its reporter now."""
        ids = list(message_ids)
        now = self._db.now()
        with self._db.transaction():
            self._db.executemany(
                "UPDATE messages SET case_id = ?, handled_at = coalesce(handled_at, ?)"
                " WHERE id = ?", [(case_id, now, i) for i in ids])
            self._db.execute("UPDATE cases SET last_message_at = ? WHERE id = ?",
                             (now, case_id))

    def count_from(self, sender: str, *, since: str, text: str | None = None) -> int:
        """SMS received from ``sender`` since then (with exactly this text, if given)."""
        sql = ("SELECT count(*) FROM messages WHERE sender = ? AND received_at >= ?"
               " AND kind = 'deliver'")
        params: list[Any] = [self._db.token(sender), since]
        if text is not None:
            sql += " AND text = ?"
            params.append(text)
        return int(self._db.scalar(sql, params))

    def recent(self, *, without_case: bool = False, kind: str | None = None,
               sender: str | None = None, limit: int | None = 50) -> list[InboundRecord]:
        """Inbound messages, newest first: e.g. the operator's notices (SIM credit),
        which are stored but belong to no case."""
        where: list[str] = []
        params: list[Any] = []
        if without_case:
            where.append("case_id IS NULL")
        if kind is not None:
            if kind not in MESSAGE_KINDS:
                raise InvalidInput(_("unknown message kind {kind!r}; expected one of "
                                     "{kinds}").format(kind=kind, kinds=", ".join(MESSAGE_KINDS)))
            where.append("kind = ?")
            params.append(kind)
        if sender is not None:
            where.append("sender = ?")
            params.append(self._db.token(sender))
        sql = ("SELECT * FROM messages" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY id DESC")
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [rows.inbound(r, self._db.shown, self._db.sealer) for r in self._db.all(sql, params)]

    def lookup(self, *, operator: str, sender: str | None = None, without_case: bool = False,
               kind: str | None = None, limit: int | None = 50) -> list[InboundRecord]:
        """``recent`` as an operator asked it: looking up a sender whose number is
        masked when shown (a person, not ``TELKOMSEL``) is recorded in the audit log,
        masked, even when nothing matched, in the same transaction as the read."""
        if sender is None or mask_number(sender) == sender:
            return self.recent(without_case=without_case, kind=kind, sender=sender,
                               limit=limit)
        self._db.ask_first(sender)
        with self._db.transaction():
            found_messages = self.recent(without_case=without_case, kind=kind, sender=sender,
                                         limit=limit)
            self._audit.record(
                "lookup", f"messages --sender {mask_number(sender)}: "
                f"{found('message', [str(m.id) for m in found_messages])}",
                operator=operator)
        return found_messages
