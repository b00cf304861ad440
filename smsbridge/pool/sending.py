"""Sending replies: claim one from the pool's outbox, send it exactly once, record it.

Two ways to send, chosen per modem:

- **store and send** (27.005 §3.5.3 AT+CMGW, §3.5.2 AT+CMSS), where the modem has it
  and marks what it sent "STO SENT": each part is written to the modem's storage, the
  slots are committed to the database, and only then is each slot sent. After a crash
  the slots tell what happened: "STO SENT" is marked sent and not sent again, "STO
  UNSENT" is sent; parts written but never recorded are found by recipient and text.
- **direct** (AT+CMGS) everywhere else: a kill while a part is in flight sends that
  reply again after the restart (at least once, as before the pool).

The worker calls :meth:`Sending.recover` once per connection, before its first send,
then, each turn, asks routing for the order of the replies it may claim and hands it to
:meth:`Sending.send_next`, which returns what happened as a :class:`SendResult`.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from smsbridge.clock import Clock, SystemClock
from smsbridge.config.sections import Config
from smsbridge.errors import CommandError, CommandLost, ModemError, PduError
from smsbridge.models import OutboxItem, to_iso
from smsbridge.modem.base import (
    STO_SENT,
    Modem,
    StoreAndSend,
    StoredMessage,
    store_and_send,
)
from smsbridge.numbers import normalize, reply_problem
from smsbridge.privacy import mask_number, mask_numbers_in
from smsbridge.retry import RetryPolicy
from smsbridge.sms import pdu as pdu_codec
from smsbridge.store import Store

log = logging.getLogger(__name__)

# 27.005 §3.1 <stat> of an SMS-SUBMIT in storage.
# How many claimable replies one turn tries to claim before giving the turn up (others
# may be claiming the same ones at that moment).
CLAIM_TRIES = 5



class Outcome(enum.Enum):
    SENT = "sent"  # the modem took every part
    FAILED = "failed"  # the modem refused or failed: the reply is tried again later
    SET_ASIDE = "set aside"  # it cannot be sent at all (bad number, unencodable): given up
    NOTHING = "nothing"  # nothing claimed (none due, or others were quicker)


@dataclass(frozen=True)
class SendResult:
    """What one turn of sending did."""

    outcome: Outcome
    reply_id: int | None = None
    parts: int = 0  # SMS the reply took (the send rate and the daily cap count them)
    reason: str | None = None  # why it failed or was set aside

    @property
    def tried(self) -> bool:
        return self.outcome is not Outcome.NOTHING


NOTHING = SendResult(Outcome.NOTHING)


class Sending:
    """The send path of one modem's worker."""

    def __init__(self, modem: Modem, store: Store, config: Config, *, name: str,
                 clock: Clock | None = None):
        self.modem = modem
        self.store = store
        self.config = config
        self.name = name
        self.clock: Clock = clock or SystemClock()
        # Asked of the modem once per connection (a Sending lives as long as one); None
        # also once it proved unable to mark what AT+CMSS sent: AT+CMGS from then on.
        self._stored: StoreAndSend | None = None
        self._asked = False
        self._verified = False
        self._recorded = False  # the reply being sent has its slots in the database
        self._blocklist: frozenset[str] = frozenset()
        self._blocklist_of: object = None  # the [abuse] section it was read from

    # -- claiming ----------------------------------------------------------------------

    def claim(self, order: Sequence[int] | None = None) -> OutboxItem | None:
        """Claim the first reply of ``order`` (ids, as routing chose them) still free;
        without one, in the queue's order (the first lane, then oldest due)."""
        now = self.clock.now()
        at = to_iso(now)
        if order is None:
            order = [w.id for w in self.store.leases.waiting(now=at)]
        until = to_iso(now + timedelta(seconds=self.config.pool.lease_seconds))
        for item_id in order[:CLAIM_TRIES]:
            item = self.store.leases.claim(item_id, owner=self.name, until=until, now=at)
            if item is not None:
                return item
        return None

    def _blocked(self) -> frozenset[str]:
        abuse, country = self.config.abuse, self.config.daemon.country_code
        if self._blocklist_of is not abuse:
            self._blocklist = frozenset(normalize(n, country) for n in abuse.blocklist)
            self._blocklist_of = abuse
        return self._blocklist

    def send_next(self, order: Sequence[int], *, trial: bool = False) -> SendResult:
        """Claim the first free reply of ``order`` and send it. ``trial``: this modem
        could not send lately, and a failure now must not cost the reply an attempt
        (it goes back to the queue, due at once, for the others)."""
        item = self.claim(order)
        return NOTHING if item is None else self.send(item, trial=trial)

    def send_one(self) -> SendResult:
        """Send the first due reply, whatever routing would say (a modem alone)."""
        item = self.claim()
        return NOTHING if item is None else self.send(item)

    def next_due_in(self) -> float | None:
        """Seconds until a reply may be claimed (0: now), or None when none waits."""
        due = self.store.leases.next_claimable_at()
        if due is None:
            return None
        return max(0.0, (datetime.fromisoformat(due) - self.clock.now()).total_seconds())

    # -- sending -----------------------------------------------------------------------

    def _store_path(self) -> StoreAndSend | None:
        if not self._asked:
            self._asked = True
            self._stored = store_and_send(self.modem)
            log.info("%s sends %s", self.name,
                     "through its storage (AT+CMGW, AT+CMSS)" if self._stored
                     else "directly (AT+CMGS)")
        return self._stored

    def send(self, item: OutboxItem, *, trial: bool = False) -> SendResult:
        """Send a claimed reply and record what happened; ModemError is re-raised after
        the attempt is recorded (the worker reconnects)."""
        now = self.clock.now()
        problem = reply_problem(item.number)
        if problem is not None:
            return self._refused(item, f"the number cannot receive SMS: {problem}")
        if item.kind in ("ack", "status", "notice") and item.number in self._blocked():
            # Queued where the number could not be read (an operator's change of the
            # case, whose notice was decided on its mask): the blocklist holds here.
            return self._refused(item, "the number is on [abuse] blocklist")
        stored = self._store_path()
        slots: list[int] = []
        self._recorded = False
        try:
            if stored is not None:
                refs, slots = self._send_stored(stored, item)
            else:
                refs = self.modem.send(item.number, item.text,
                                       status_report=self.config.outbox.status_report,
                                       reference=item.id & 0xFF)
        except (CommandError, PduError) as exc:
            return self._failed(item, str(exc), now, trial=trial)
        except ModemError as exc:
            if self._recorded:
                # The modem went silent or away during AT+CMSS: whether the part went out
                # is in its slot. The lease and the slots stay, so the next connection's
                # recover() reads them; if the modem does not come back, the lease runs
                # out and another modem sends the reply.
                log.warning("reply %d: %s during the send; its slots are checked when "
                            "%s is back", item.id, exc, self.name)
                raise
            self._failed(item, str(exc), now, trial=trial)
            raise
        except _LeaseLost:
            log.warning("reply %d: its lease went to another modem before it was sent",
                        item.id)
            return NOTHING
        except Exception as exc:
            # Not the modem's trouble (a text or number that cannot be encoded, a bug):
            # trying again cannot help, and it must not stop the replies behind it.
            log.error("reply %d cannot be sent", item.id, exc_info=exc)
            return self._refused(item, f"{type(exc).__name__}: {mask_numbers_in(str(exc))}")
        result = self._done(item, refs)
        if stored is not None:
            # Only now: until the database said sent, the slots were the proof.
            self._drop_slots(stored, slots)
        return result

    def _send_stored(self, stored: StoreAndSend, item: OutboxItem
                     ) -> tuple[list[int | None], list[int]]:
        slots = stored.write(item.number, item.text,
                             status_report=self.config.outbox.status_report,
                             reference=item.id & 0xFF)
        # The slots are in the database before any is sent: that is what makes a
        # crash during AT+CMSS answerable after the restart.
        if not self.store.leases.record_slots(item.id, owner=self.name, slots=slots):
            self._drop_slots(stored, slots)
            raise _LeaseLost()
        self._recorded = True
        refs: list[int | None] = []
        try:
            for slot in slots:
                if refs:
                    # Each part may take the whole send timeout: the lease must outlast
                    # a long reply, or another modem would claim it midway.
                    self.store.leases.renew(item.id, owner=self.name, until=to_iso(
                        self.clock.now() + timedelta(seconds=self.config.pool.lease_seconds)))
                try:
                    refs.append(self._send_slot(stored, item, slot))
                except CommandError as exc:
                    # A bare ERROR says nothing clear: the slot says whether it went out.
                    if exc.kind is not None or not self._went_out(stored, slot):
                        raise
                    log.warning("reply %d: %s, but slot %d reads \"STO SENT\": sent",
                                item.id, exc, slot)
                    refs.append(None)
        except CommandError:
            # Refused (network trouble): the next attempt writes afresh, maybe elsewhere.
            self._drop_slots(stored, slots)
            raise
        if not self._verified:
            self._verify_marking(stored, slots)
        return refs, slots

    def _send_slot(self, stored: StoreAndSend, item: OutboxItem, slot: int) -> int | None:
        """AT+CMSS of one slot. Lost (the stick answered a probe behind it, not it): on
        a modem known to mark what it sent, the slot says whether it went out, and
        only an unsent one is sent again, at once, instead of waiting out the whole
        send timeout; elsewhere the loss is a timeout (the slots are read after the
        reconnect)."""
        try:
            return stored.send_stored(slot)
        except CommandLost as exc:
            if not self._verified:
                raise
            if self._went_out(stored, slot):
                log.warning("reply %d: %s, but slot %d reads \"STO SENT\": sent", item.id,
                            exc, slot)
                return None
            log.info("reply %d: AT+CMSS=%d was lost and the slot is unsent: sending it "
                     "again", item.id, slot)
            return stored.send_stored(slot)

    def _went_out(self, stored: StoreAndSend, slot: int) -> bool:
        if not self._verified:
            return False  # not known to mark what it sends: the slot cannot tell
        try:
            return any(m.index == slot and m.status == STO_SENT for m in stored.outgoing())
        except CommandError:
            return False

    def _verify_marking(self, stored: StoreAndSend, slots: list[int]) -> None:
        """Once per connection: does this modem mark what AT+CMSS sent "STO SENT"? The
        spec does not require it, and recovery depends on it (DOMAIN.md)."""
        stats = {m.index: m.status for m in stored.outgoing()}
        if all(stats.get(slot) == STO_SENT for slot in slots):
            self._verified = True
            return
        log.warning("%s does not mark what AT+CMSS sent as \"STO SENT\": sending with "
                    "AT+CMGS from now on", self.name)
        self._stored = None

    def _done(self, item: OutboxItem, refs: list[int | None]) -> SendResult:
        with self.store.transaction():
            self.store.outbox.sent(item.id, refs, at=to_iso(self.clock.now()))
            self.store.leases.mark_sent_by(item.id, self.name)
        log.info("sent %s reply %d to %s (%d part(s))", item.kind, item.id,
                 mask_number(item.number), len(refs))
        return SendResult(Outcome.SENT, item.id, parts=len(refs))

    def _drop_slots(self, stored: StoreAndSend, slots: Sequence[int]) -> None:
        for slot in slots:
            try:
                stored.delete_outgoing(slot)
            except CommandError as exc:
                log.info("slot %d not deleted (%s); it is deleted at the next start", slot,
                         exc)

    def _refused(self, item: OutboxItem, error: str) -> SendResult:
        """Give up at once, with the reason on the case: nothing about a retry differs."""
        with self.store.transaction():
            self.store.outbox.gave_up(item.id, error, attempts=item.attempts + 1)
            self.store.leases.release(item.id)
        log.error("reply %d to %s set aside: %s", item.id, mask_number(item.number), error)
        return SendResult(Outcome.SET_ASIDE, item.id, reason=f"reply {item.id}: {error}")

    def _failed(self, item: OutboxItem, error: str, now: datetime, *,
                trial: bool = False) -> SendResult:
        failed = SendResult(Outcome.FAILED, item.id, reason=error)
        if trial:
            # The modem, not the reply, is in question: the reply keeps its attempts
            # and is due again at once, for whichever modem can send.
            self.store.leases.release(item.id)
            log.info("reply %d: %s still cannot send (%s); it goes to the others",
                     item.id, self.name, error)
            return failed
        attempts = item.attempts + 1
        cfg = self.config.outbox
        with self.store.transaction():
            self.store.leases.release(item.id)
            if attempts >= cfg.max_attempts:
                self.store.outbox.gave_up(item.id, error, attempts=attempts)
                log.error("gave up reply %d to %s after %d attempts: %s", item.id,
                          mask_number(item.number), attempts, error)
                return failed
            delay = RetryPolicy(cfg.retry_base_seconds, cfg.retry_max_seconds).delay(attempts)
            self.store.outbox.retry(item.id, error, attempts=attempts,
                                    next_at=to_iso(now + timedelta(seconds=delay)))
        log.warning("reply %d to %s failed (attempt %d, next in %gs): %s", item.id,
                    mask_number(item.number), attempts, delay, error)
        return failed

    # -- after a restart -----------------------------------------------------------------

    def recover(self) -> None:
        """What this modem held when the process (or its connection) died: replies still
        leased to it, and what its storage holds of them."""
        held = self.store.leases.held_by(self.name)
        stored = self._store_path()
        if stored is None:
            for item in held:
                # Direct sending leaves no trace on the modem: whether the last AT+CMGS
                # went out is unknown, so it goes out (again) from the queue.
                self.store.leases.release(item.id)
            return
        outgoing = {m.index: m for m in stored.outgoing()}
        used: set[int] = set()
        for item in held:
            slots = json.loads(item.slots) if item.slots else self._match(item, outgoing, used)
            if not slots or any(slot not in outgoing for slot in slots):
                self.store.leases.release(item.id)
                continue
            used.update(slots)
            self._finish_recovered(stored, item, slots, outgoing)
        for slot, message in outgoing.items():
            if slot not in used:
                # Sent and recorded, or written for a reply whose lease went elsewhere.
                log.debug("%s: deleting leftover slot %d (stat %d)", self.name, slot,
                          message.status)
                self._drop_slots(stored, [slot])

    def _match(self, item: OutboxItem, outgoing: dict[int, StoredMessage],
               used: set[int]) -> list[int] | None:
        """Slots written for ``item`` but never recorded (a kill right after AT+CMGW):
        the parts its recipient and text make, in order."""
        wanted = [_identity(p.pdu) for p in pdu_codec.encode_submit(
            item.number, item.text, reference=item.id & 0xFF,
            status_report=self.config.outbox.status_report)]
        found: list[int] = []
        for identity in wanted:
            slot = next((i for i, m in sorted(outgoing.items())
                         if i not in used and i not in found and _identity(m.pdu) == identity),
                        None)
            if slot is None:
                return None
            found.append(slot)
        log.info("reply %d: found its parts written but not recorded, slots %s", item.id,
                 found)
        return found

    def _finish_recovered(self, stored: StoreAndSend, item: OutboxItem, slots: list[int],
                          outgoing: dict[int, StoredMessage]) -> None:
        refs: list[int | None] = []
        already = [s for s in slots if outgoing[s].status == STO_SENT]
        try:
            for slot in slots:
                if outgoing[slot].status != STO_SENT:
                    refs.append(stored.send_stored(slot))
        except CommandError as exc:
            self._drop_slots(stored, slots)
            self._failed(item, str(exc), self.clock.now())
            return
        log.info("reply %d recovered after a restart: %d part(s) had gone out, %d sent now",
                 item.id, len(already), len(refs))
        self._done(item, refs)
        self._drop_slots(stored, slots)


class _LeaseLost(Exception):
    """The reply's lease is no longer this modem's (it ran out and another took it)."""


def _identity(pdu: bytes) -> tuple[object, ...] | None:
    """What tells one SMS-SUBMIT part from another: recipient, text and its place."""
    try:
        info = pdu_codec.decode_submit(pdu, with_smsc=True)
    except PduError:
        return None
    concat = info.concat
    return (info.recipient, info.text, concat.reference if concat else None,
            concat.sequence if concat else None)
