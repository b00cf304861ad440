"""The outbox as the pool's modems share it: claims with a lease, storage slots, counts.

A send-capable worker claims one due reply at a time with an atomic UPDATE … RETURNING
that sets the lease's owner (its modem's name) and expiry. A reply whose lease ran
out (its worker died or hung) is due again for any modem; a restarted worker takes
back what its modem still holds. The rules of who may send what are ``pool/routing.py``'s;
this module only reads the facts for them and writes down the outcome.
"""

from __future__ import annotations

import json
from datetime import datetime

from smsbridge.models import AUTO_LANE, FIRST_LANE, OutboxItem, WaitingReply
from smsbridge.store import rows
from smsbridge.store.db import Database

# A queued reply is claimable when due and not under a live lease (both ? are now).
_CLAIMABLE = ("{t}state = 'queued' AND {t}next_attempt_at <= ?"
              " AND ({t}lease_until IS NULL OR {t}lease_until <= ?)")
# The lane of a reply (models.FIRST_LANE, AUTO_LANE): field SMS (dispatches, officers'
# confirmations), operators' replies and citizens' notices first; automatic answers
# (acknowledgements, CEK answers, neutral replies) after them.
_LANE = (f"CASE WHEN o.kind IN ('dispatch', 'operator', 'notice')"
         f" OR (o.kind = 'field' AND o.case_id IS NOT NULL) THEN {FIRST_LANE}"
         f" ELSE {AUTO_LANE} END")


class Leases:
    def __init__(self, db: Database):
        self._db = db

    def waiting(self, *, now: str, limit: int = 200) -> list[WaitingReply]:
        """Claimable replies, the first lane first, then oldest due first. An operator's
        reply prefers the modem the case's last message came in on."""
        found = self._db.all(
            f"SELECT o.id, shown(o.number_sealed, o.number_mask, o.number) AS number,"
            f" o.next_attempt_at, {_LANE} AS lane,"
            " coalesce(o.prefer_modem,"
            " (SELECT m.modem FROM messages m WHERE m.case_id = o.case_id AND m.modem != ''"
            "  ORDER BY m.id DESC LIMIT 1)) AS prefer"
            f" FROM outbox o WHERE {_CLAIMABLE.format(t='o.')}"
            " ORDER BY lane, o.next_attempt_at, o.id LIMIT ?", (now, now, limit))
        return [WaitingReply(r["id"], r["number"], datetime.fromisoformat(r["next_attempt_at"]),
                             r["prefer"], r["lane"]) for r in found]

    def claim(self, item_id: int, *, owner: str, until: str, now: str) -> OutboxItem | None:
        """Take the lease of one reply if it is still claimable; None when another
        modem was quicker (or it was sent, cancelled, or is not due)."""
        with self._db.transaction():
            row = self._db.one(
                f"UPDATE outbox SET lease_owner = ?, lease_until = ?"
                f" WHERE id = ? AND {_CLAIMABLE.format(t='')} RETURNING *",
                (owner, until, item_id, now, now))
        return rows.outbox(row, self._db.shown) if row is not None else None

    def held_by(self, owner: str) -> list[OutboxItem]:
        """Queued replies whose lease ``owner`` holds or held: after a restart, what its
        modem may have written or sent before the process died."""
        return [rows.outbox(r, self._db.shown) for r in self._db.all(
            "SELECT * FROM outbox WHERE lease_owner = ? AND state = 'queued' ORDER BY id",
            (owner,))]

    def renew(self, item_id: int, *, owner: str, until: str) -> None:
        with self._db.transaction():
            self._db.execute("UPDATE outbox SET lease_until = ? WHERE id = ?"
                             " AND lease_owner = ?", (until, item_id, owner))

    def record_slots(self, item_id: int, *, owner: str, slots: list[int]) -> bool:
        """The parts were written to these slots of ``owner``'s storage (AT+CMGW):
        committed before any is sent, so a restart finds them. False when the lease is
        no longer ``owner``'s (it ran out and another modem claimed the reply)."""
        with self._db.transaction():
            cursor = self._db.execute(
                "UPDATE outbox SET slots = ? WHERE id = ? AND lease_owner = ?"
                " AND state = 'queued'", (json.dumps(slots), item_id, owner))
            return cursor.rowcount == 1

    def mark_sent_by(self, item_id: int, modem: str) -> None:
        """Which modem sent it; the lease and the slots are done with."""
        with self._db.transaction():
            self._db.execute("UPDATE outbox SET sent_by = ?, lease_owner = NULL,"
                             " lease_until = NULL, slots = NULL WHERE id = ?", (modem, item_id))

    def release(self, item_id: int) -> None:
        """Back to the queue for any modem (its slots, if any, are forgotten)."""
        with self._db.transaction():
            self._db.execute("UPDATE outbox SET lease_owner = NULL, lease_until = NULL,"
                             " slots = NULL WHERE id = ?", (item_id,))

    def disown(self, owner: str, *, to: str) -> None:
        """The queued replies leased to ``owner`` belong to another stick now gone from
        its port: leased to ``to`` until their leases run out, so ``owner``'s new stick
        never takes them back as its own (its storage holds none of their slots)."""
        with self._db.transaction():
            self._db.execute("UPDATE outbox SET lease_owner = ? WHERE lease_owner = ?"
                             " AND state = 'queued'", (to, owner))

    def due_now(self, item_ids: list[int], *, at: str) -> None:
        """These queued replies are due at once (the modem that failed them cannot
        send: the others need not wait out their retry delay)."""
        if not item_ids:
            return
        with self._db.transaction():
            self._db.executemany(
                "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND state = 'queued'"
                " AND next_attempt_at > ?", [(at, i, at) for i in item_ids])

    def next_claimable_at(self) -> str | None:
        """When the next queued reply becomes claimable (due and its lease run out)."""
        due: str | None = self._db.scalar(
            "SELECT min(max(next_attempt_at, coalesce(lease_until, next_attempt_at)))"
            " FROM outbox WHERE state = 'queued'")
        return due

    def parts_sent(self, modem: str, *, since: str) -> int:
        """SMS (parts) ``modem`` sent since ``since``: what its daily cap counts."""
        return int(self._db.scalar(
            "SELECT coalesce(sum(parts), 0) FROM outbox"
            " WHERE sent_by = ? AND sent_at >= ?", (modem, since)))

    def queued_by_modem(self) -> dict[str | None, int]:
        """Waiting replies per preferred modem (None: no preference), for ``status``."""
        return {r[0]: r[1] for r in self._db.all(
            "SELECT prefer_modem, count(*) FROM outbox WHERE state = 'queued'"
            " GROUP BY prefer_modem")}
