"""The outbox: SMS waiting to be sent, sent, delivered or given up (a retry queue).

Automatic replies are queued by the bridge in the transaction that stores the report;
operators' replies by ``cases reply``. The daemon sends one at a time, and a status
report from the network marks one delivered or failed. Operators list the outbox,
cancel a queued SMS and queue a failed or given-up one again (``outbox …``), each
recorded in the case's history.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from smsbridge.errors import InvalidInput
from smsbridge.i18n import NP_, _, pgettext
from smsbridge.models import OutboxItem
from smsbridge.numbers import known_problem
from smsbridge.privacy import mask_number, mask_numbers_in
from smsbridge.sealing.keys import StoredNumber
from smsbridge.sms import pdu
from smsbridge.store import rows
from smsbridge.store.audit import found
from smsbridge.store.cases import Cases
from smsbridge.store.db import Database
from smsbridge.store.queue import QueueTable, RetryQueue
from smsbridge.store.schema import AUTO_REPLIES, OUTBOX_KINDS, OUTBOX_STATES

OUTBOX = QueueTable(
    "outbox", pending="state = 'queued'", order="next_attempt_at, id",
    done="state = 'sent', attempts = attempts + 1, last_error = NULL, next_attempt_at = NULL",
    given_up="state = 'gave_up'")


class Outbox:
    def __init__(self, db: Database, cases: Cases):
        self._db = db
        self._cases = cases
        self.queue = RetryQueue(db, OUTBOX)

    def add(self, number: str | StoredNumber, text: str, *, kind: str, created_by: str,
            case_id: int | None = None, at: str | None = None,
            prefer_modem: str | None = None) -> OutboxItem:
        """Put one SMS in the outbox (state queued, due ``at``, default now);
        ``prefer_modem``: the pool's modem the citizen texted, to answer from it.
        ``number``: clear (sealed here, with the keys or through the daemon), or as a
        case keeps it (``Cases.stored_reporter``: copied, never opened)."""
        if kind not in OUTBOX_KINDS:
            raise InvalidInput(_("outbox kind {kind!r}; expected one of {kinds}").format(
                kind=kind, kinds=", ".join(OUTBOX_KINDS)))
        now = at or self._db.now()
        stored = self._db.stored(number) if isinstance(number, str) else number
        return rows.outbox(self.queue.add({
            "case_id": case_id, "number": stored.token, "number_sealed": stored.sealed,
            "number_mask": stored.mask, "number_problem": stored.problem, "text": text,
            "kind": kind,
            "state": "queued", "created_at": now, "next_attempt_at": now,
            "created_by": created_by, "prefer_modem": prefer_modem,
            "parts": pdu.parts_needed(text)}), self._db.shown)

    def add_reply(self, ticket: str, text: str, *, operator: str,
                  short_code_max_digits: int = 5) -> OutboxItem:
        """Queue an operator's SMS to the case's reporter; the daemon sends it.
        ``short_code_max_digits`` is the line's ``[abuse]`` setting."""
        # Only `cases reply` comes here; every other command is spared the import.
        from smsbridge import replies

        body = replies.operator_reply_text(text)
        with self._db.transaction():
            case = self._cases.get(ticket)
            problem = known_problem(case.reporter, case.reporter_problem,
                                    short_code_max_digits=short_code_max_digits)
            if problem:
                raise InvalidInput(_("{ticket} cannot be answered: its reporter's number "
                                     "cannot receive SMS ({problem})").format(
                                         ticket=case.ticket, problem=problem))
            item = self.add(self._cases.stored_reporter(case.id), body, kind="operator",
                            case_id=case.id,
                            created_by=operator)
            self._cases.event(case.id, operator, "reply", note=body)
            self._cases.touch(case.id)
            return item

    def next_due_at(self) -> str | None:
        return self.queue.next_due_at()

    def backlog(self) -> int:
        """SMS waiting to be sent."""
        return self.queue.pending()

    def sent(self, outbox_id: int, refs: list[int | None], *, at: str) -> None:
        """Sent; ``refs`` are the message references of its parts (for status reports),
        None for a part the modem accepted without a readable one: sent all the same,
        and the case's history says its delivery cannot be confirmed.

        An operator may cancel an SMS while the daemon is already sending it: it went
        out all the same, so it is marked sent, and the case's history says so."""
        with self._db.transaction():
            row = self._db.one("SELECT state, case_id FROM outbox WHERE id = ?", (outbox_id,))
            self.queue.done(outbox_id, sent_at=at, refs=json.dumps(refs))
            if row is None or row["case_id"] is None:
                return
            if row["state"] == "cancelled":
                self._cases.event(row["case_id"], "smsbridge", "reply_sent",
                                  note=f"SMS #{outbox_id} was already being sent when it was "
                                       "cancelled: it was sent")
            unknown = sum(1 for r in refs if r is None)
            if unknown:
                self._cases.event(row["case_id"], "smsbridge", "reply_sent",
                                  note=f"SMS #{outbox_id} sent, reference unknown: the modem "
                                       f"accepted {unknown} of its {len(refs)} part(s) without "
                                       "a message reference, so no delivery report can be "
                                       "matched to them")

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
                        at: str, modem: str | None = None) -> bool:
        """Apply a status report to the SMS it answers; False when none matches.

        A report comes back to the modem that sent the SMS, and each modem numbers its
        messages (TP-MR) on its own: with ``modem``, only what that modem sent matches."""
        with self._db.transaction():
            outbox_id = self._db.scalar(
                "SELECT id FROM outbox WHERE number = ? AND state IN ('sent', 'delivered')"
                " AND EXISTS (SELECT 1 FROM json_each(outbox.refs) WHERE value = ?)"
                " AND (? IS NULL OR sent_by IS NULL OR sent_by = ?)"
                " ORDER BY id DESC LIMIT 1", (self._db.token(number), reference, modem, modem))
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
        """SMS parts of automatic replies (acknowledgements, status answers, notices,
        neutral replies to officers' answers that failed: schema.AUTO_REPLIES) queued
        since then: to anyone (None), the line's budget; to ``number``, its reply limit,
        which leaves out the notices (``count_notices``: an allowance of their own).
        Parts, not replies: they are what the SIM's package is charged."""
        if number is None:
            return int(self._db.scalar(
                "SELECT coalesce(sum(parts), 0) FROM outbox INDEXED BY outbox_auto_created"
                f" WHERE {AUTO_REPLIES} AND created_at >= ?", (since,)))
        return int(self._db.scalar(
            "SELECT coalesce(sum(parts), 0) FROM outbox WHERE number = ? AND created_at >= ?"
            f" AND {AUTO_REPLIES} AND kind != 'notice'", (self._db.token(number), since)))

    def count_notices(self, key: str, *, since: str) -> int:
        """Parts of the notices to a number queued since then: their own allowance.
        ``key``: the number as a case keeps it (``Case.reporter_token``)."""
        return int(self._db.scalar(
            "SELECT coalesce(sum(parts), 0) FROM outbox WHERE number = ? AND created_at >= ?"
            " AND kind = 'notice'", (key, since)))

    # operators' management (``smsbridge outbox …``) -------------------------------------

    def listing(self, *, states: Iterable[str] = (), limit: int | None = 50,
                operator: str, reveal: bool = False) -> list[OutboxItem]:
        """The outbox, newest first, with each SMS's ticket; only ``states`` if given.

        With ``reveal`` the numbers will be shown in full: every case shown gets a
        "number revealed" line and the audit log one line, in the read's transaction.
        """
        wanted = [check_state(s) for s in states]
        sql = ("SELECT o.*, c.ticket AS ticket FROM outbox o LEFT JOIN cases c"
               " ON c.id = o.case_id")
        params: list[object] = []
        if wanted:
            sql += f" WHERE o.state IN ({', '.join('?' * len(wanted))})"
            params += wanted
        sql += " ORDER BY o.id DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        if not reveal:
            return [rows.outbox(r, self._db.shown) for r in self._db.all(sql, params)]
        with self._db.transaction():
            items = [rows.outbox(r, self._db.shown) for r in self._db.all(sql, params)]
            for case_id in dict.fromkeys(i.case_id for i in items if i.case_id is not None):
                self._cases.event(case_id, operator, "reveal", note="number revealed")
            self._cases.audit.record(
                "reveal", f"outbox list: {found('SMS', [f'#{i.id}' for i in items])}",
                operator=operator)
            return items

    def cancel(self, outbox_id: int, *, operator: str) -> OutboxItem:
        """A queued SMS is not sent: it becomes cancelled, and its case's history says
        who cancelled it."""
        with self._db.transaction():
            item = self._get(outbox_id)
            if item.state != "queued":
                raise InvalidInput(_("SMS #{id} is {state}; only a queued SMS can be "
                                     "cancelled").format(id=outbox_id,
                                                         state=_shown_state(item.state)))
            self._db.execute("UPDATE outbox SET state = 'cancelled', next_attempt_at = NULL"
                             " WHERE id = ?", (outbox_id,))
            self._record(item, operator, "reply_cancelled",
                         f"SMS #{outbox_id} ({item.kind}) cancelled before it was sent")
            return self._get(outbox_id)

    def requeue(self, outbox_id: int, *, operator: str,
                short_code_max_digits: int = 5) -> OutboxItem:
        """A failed, given-up or cancelled SMS is queued again, due now.

        Its attempts start again from 0, so it gets the whole retry schedule anew (kept,
        a given-up SMS would be given up at its first new failure); the history line
        keeps the attempts and the error it had. An SMS whose number cannot receive SMS
        (``numbers.reply_problem``) is refused: it could only fail again.
        """
        with self._db.transaction():
            item = self._get(outbox_id)
            if item.state not in ("failed", "gave_up", "cancelled"):
                hint = (_("it is already waiting to be sent") if item.state == "queued" else
                        _("to say it again, write a new reply with `smsbridge cases reply`"))
                raise InvalidInput(_("SMS #{id} is {state}; only a failed, given-up or "
                                     "cancelled SMS can be queued again ({hint})").format(
                                         id=outbox_id, state=_shown_state(item.state),
                                         hint=hint))
            problem = known_problem(item.number, item.number_problem,
                                    short_code_max_digits=short_code_max_digits)
            if problem:
                raise InvalidInput(_("SMS #{id} cannot be sent again: the number cannot "
                                     "receive SMS ({problem})").format(id=outbox_id,
                                                                      problem=problem))
            now = self._db.now()
            self._db.execute(
                "UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = ?,"
                " last_error = NULL, sent_at = NULL, delivered_at = NULL, refs = '[]'"
                " WHERE id = ?", (now, outbox_id))
            before = f"was {item.state} after {item.attempts} attempt(s)"
            if item.last_error:
                before += f": {mask_numbers_in(item.last_error)}"
            self._record(item, operator, "reply_requeued",
                         f"SMS #{outbox_id} ({item.kind}) queued again ({before})")
            return self._get(outbox_id)

    def _get(self, outbox_id: int) -> OutboxItem:
        row = self._db.one("SELECT o.*, c.ticket AS ticket FROM outbox o LEFT JOIN cases c"
                           " ON c.id = o.case_id WHERE o.id = ?", (outbox_id,))
        if row is None:
            raise InvalidInput(_("no SMS #{id} in the outbox; `smsbridge outbox list` shows "
                                 "their numbers").format(id=outbox_id))
        return rows.outbox(row, self._db.shown)

    def _record(self, item: OutboxItem, operator: str, action: str, note: str) -> None:
        """On the case's history; an SMS of no case (a CEK answer, a notice) has none,
        so the audit log keeps who did it."""
        if item.case_id is not None:
            self._cases.event(item.case_id, operator, action, note=note)
        else:
            self._cases.audit.record(action, f"{note}, to {mask_number(item.number)}",
                                     operator=operator)


# The outbox's states as an Indonesian desk types them, whatever the language shown.
STATE_WORDS = {"antre": "queued", "antri": "queued", "terkirim": "sent", "sampai": "delivered",
               "gagal": "failed", "menyerah": "gave_up", "dibatalkan": "cancelled",
               "batal": "cancelled"}


def check_state(name: str) -> str:
    """An outbox state as typed (``gave-up`` or ``gave_up``, any case, or the desk's
    word: ``gagal``) -> as stored; the error lists them in the operator's language."""
    state = name.strip().lower().replace("-", "_")
    state = STATE_WORDS.get(state, state)
    if state not in OUTBOX_STATES:
        shown = ", ".join(word if (word := _shown_state(s)) != s else s.replace("_", "-")
                          for s in OUTBOX_STATES)
        raise InvalidInput(_("unknown outbox state {typed!r}; states are: {states}").format(
            typed=name, states=shown))
    return state


# An outbox state as the operator reads it in a sentence (the CLI's tables say the
# same, cli/output.py); the codes stay what --status takes.
_STATES_SHOWN = {"queued": NP_("sms state", "queued"), "sent": NP_("sms state", "sent"),
                 "delivered": NP_("sms state", "delivered"),
                 "failed": NP_("sms state", "failed"), "gave_up": NP_("sms state", "gave_up"),
                 "cancelled": NP_("sms state", "cancelled")}


def _shown_state(state: str) -> str:
    return pgettext("sms state", _STATES_SHOWN[state]) if state in _STATES_SHOWN else state
