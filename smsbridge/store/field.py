"""The field loop's records: cases dispatched to officers, officers' answers, and the
status changes that tell the reporter (``store.field``).

Whether an answer may change a case is ``field.judge``'s to say, which notice a status
gets ``fieldwork.texts.Notices``'s; this module reads the facts for them and writes down
what they decide. A status change and the reporter's notice are one transaction, so
the notice is queued exactly once per change, whatever moment the process dies at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from smsbridge import tickets
from smsbridge.errors import InvalidInput
from smsbridge.fieldwork.answers import Accept, AnswerRecord, DispatchRecord, FieldStats, Officer
from smsbridge.fieldwork.texts import NoticeCounts, Notices
from smsbridge.models import Case, CaseQuery, to_iso
from smsbridge.store.cases import Cases
from smsbridge.store.db import Database
from smsbridge.store.outbox import Outbox
from smsbridge.store.rows import case_filters


class FieldLog:
    """The dispatches and field_answers tables, over the cases and the outbox."""

    def __init__(self, db: Database, cases: Cases, outbox: Outbox):
        self._db = db
        self._cases = cases
        self._outbox = outbox

    # sending a case to officers ---------------------------------------------------------

    def dispatch(self, ticket: str, officers: Sequence[Officer], *, compose: Callable[[Case], str],
                 operator: str, team: str | None = None, note: str | None = None
                 ) -> tuple[Case, list[DispatchRecord]]:
        """One SMS per officer with ``compose(case)``, each recorded; the case assigned
        (to the team when sent to one) and, when new, moved to checking."""
        if not officers:
            raise InvalidInput("nobody to send the case to")
        with self._db.transaction():
            case = self._cases.get(ticket)
            if case.status in tickets.CLOSED_STATUSES:
                raise InvalidInput(f"{case.ticket} is {case.status}; reopen it first (cases "
                                   "update --status checking --note WHY) to send it out again")
            text = compose(case)
            now = self._db.now()
            ids = []
            for officer in officers:
                item = self._outbox.add(officer.number, text, kind="dispatch", case_id=case.id,
                                        created_by=operator, at=now)
                ids.append(self._db.scalar(
                    "INSERT INTO dispatches (case_id, officer, team, outbox_id, at, operator,"
                    " login, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (case.id, officer.name, team, item.id, now, operator,
                     self._cases.audit.login, note)))
            names = ", ".join(o.name for o in officers)
            self._cases.event(case.id, operator, "dispatch",
                              note=f"sent to {names}" + (f" (team {team})" if team else "")
                              + (f": {note}" if note else ""))
            after = self._cases.update(
                case.ticket, operator=operator, assign=team or officers[0].name,
                status="checking" if case.status == "new" else None)
            self._cases.touch(case.id)
            records = [r for r in self.dispatches(case.id) if r.id in ids]
        return after, records

    def dispatches(self, case_id: int) -> list[DispatchRecord]:
        return [DispatchRecord(
            id=r["id"], case_id=r["case_id"], officer=r["officer"], team=r["team"],
            at=r["at"], operator=r["operator"], note=r["note"], outbox_id=r["outbox_id"],
            state=r["state"], sent_at=r["sent_at"], delivered_at=r["delivered_at"],
            error=r["last_error"]) for r in self._db.all(
                "SELECT d.*, o.state, o.sent_at, o.delivered_at, o.last_error"
                " FROM dispatches d LEFT JOIN outbox o ON o.id = d.outbox_id"
                " WHERE d.case_id = ? ORDER BY d.id", (case_id,))]

    # officers' answers ------------------------------------------------------------------

    def answer_facts(self, number: int) -> tuple[tickets.CaseFacts | None, tuple[str, ...]]:
        """The case with this ticket number, and the officers it was dispatched to."""
        row = self._db.one("SELECT id, ticket, status, assigned_to FROM cases WHERE id = ?",
                           (number,))
        if row is None:
            return None, ()
        names = tuple(r[0] for r in self._db.all(
            "SELECT DISTINCT officer FROM dispatches WHERE case_id = ?", (number,)))
        return tickets.CaseFacts(row["id"], row["ticket"], row["status"],
                                 row["assigned_to"]), names

    def record_answer(self, *, message_id: int | None, officer: str | None,
                      case_id: int | None, ticket: str | None, finding: str | None,
                      note: str, accepted: bool, reason: str | None = None,
                      new_status: str | None = None, at: str | None = None) -> int:
        with self._db.transaction():
            return int(self._db.scalar(
                "INSERT INTO field_answers (at, message_id, officer, case_id, ticket, finding,"
                " note, accepted, reason, new_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING id", (at or self._db.now(), message_id, officer, case_id, ticket,
                                  finding, note, int(accepted), reason, new_status)))

    def apply(self, accept: Accept, *, message_id: int | None, ticket: str | None,
              notices: Notices, at: str) -> tuple[Case, int]:
        """An accepted answer: the case moves through ``accept.steps`` as its officer,
        with their words as the note (or gets the note alone), and the reporter's notice
        is queued with the change; returns the case and the answer's id."""
        officer, case = accept.officer.name, accept.case
        with self._db.transaction():
            before = self._cases.by_id(case.id)
            for i, step in enumerate(accept.steps):
                last = i == len(accept.steps) - 1
                self._cases.update(before.ticket, operator=officer, status=step,
                                   note=(accept.note or None) if last else "by field answer")
            if not accept.steps:
                said = f"says {accept.finding}, status stays {before.status}" \
                    if accept.finding else ""
                self._cases.update(before.ticket, operator=officer,
                                   note="; ".join(filter(None, [accept.note, said])))
            after = self._cases.by_id(case.id)
            self._notify(before, after, notices, operator=officer)
            answer = self.record_answer(
                message_id=message_id, officer=officer, case_id=case.id, ticket=ticket,
                finding=accept.finding, note=accept.note, accepted=True,
                new_status=after.status if after.status != before.status else None, at=at)
        return after, answer

    def set_reply(self, answer_id: int, outbox_id: int) -> None:
        with self._db.transaction():
            self._db.execute("UPDATE field_answers SET reply_id = ? WHERE id = ?",
                             (outbox_id, answer_id))

    def answers(self, case_id: int) -> list[AnswerRecord]:
        return [_answer(r) for r in self._db.all(
            f"{_ANSWERS} WHERE a.case_id = ? ORDER BY a.id", (case_id,))]

    def loop(self, case_id: int) -> tuple[list[DispatchRecord], list[AnswerRecord]]:
        """A case's dispatches and answers, read consistently (``cases show``)."""
        with self._db.snapshot():
            return self.dispatches(case_id), self.answers(case_id)

    def recent_answers(self, *, refused_only: bool = False, limit: int = 50
                       ) -> list[AnswerRecord]:
        """The newest answers first, for the desk (``cases answers``)."""
        where = " WHERE a.accepted = 0" if refused_only else ""
        return [_answer(r) for r in self._db.all(
            f"{_ANSWERS}{where} ORDER BY a.id DESC LIMIT ?", (limit,))]

    def hide_word(self, message_ids: Sequence[int], word: str) -> None:
        """The verification word out of the stored text of an officer's SMS (it opens
        the first part): ``messages list`` must not teach it to whoever reads it."""
        if not message_ids:
            return
        marks = ", ".join("?" * len(message_ids))
        row = self._db.one(f"SELECT id, text FROM messages WHERE id IN ({marks})"
                           " ORDER BY coalesce(concat_seq, 0), id LIMIT 1", tuple(message_ids))
        if row is None or not row["text"]:
            return
        text = row["text"]
        start = text.find(word)
        if start < 0 or text[:start].strip():
            return
        with self._db.transaction():
            self._db.execute("UPDATE messages SET text = ? WHERE id = ?",
                             (text[:start] + "****" + text[start + len(word):], row["id"]))

    # status changes that tell the reporter ----------------------------------------------

    def update(self, notices: Notices, ticket: str, *, operator: str, **changes: Any) -> Case:
        """``Cases.update(ticket, operator=…, **changes)``, and the reporter's notice in
        the same transaction when the status changes to one that has a notice."""
        with self._db.transaction():
            before = self._cases.get(ticket)
            after = self._cases.update(ticket, operator=operator, **changes)
            self._notify(before, after, notices, operator=operator)
            return after

    def _notify(self, before: Case, after: Case, notices: Notices, *, operator: str) -> None:
        if after.status == before.status:
            return
        moment = datetime.fromisoformat(self._db.now())
        hour_ago = to_iso(moment - timedelta(hours=1))
        counts = NoticeCounts(
            self._outbox.count_auto_replies(after.reporter, since=hour_ago),
            self._outbox.count_auto_replies(since=hour_ago),
            self._outbox.count_auto_replies(since=to_iso(moment - timedelta(days=1))))
        decided = notices.decide(after.reporter, after.status, after.ticket, counts)
        if decided is None:
            return
        text, reply = decided
        if not reply.send:
            self._cases.event(after.id, operator, "notice",
                              note=f"no notice of {after.status}: {reply.reason}")
            return
        item = self._outbox.add(after.reporter, text, kind="notice", case_id=after.id,
                                created_by=operator)
        self._cases.event(after.id, operator, "notice",
                          note=f"the reporter is told the case is {after.status} "
                               f"(SMS #{item.id})")

    # figures ----------------------------------------------------------------------------

    def stats(self, *, since: str | None = None, until: str | None = None) -> FieldStats:
        """For cases received in [since, until): how soon they went out, how soon the
        field answered, how many were answered."""
        if since is None and until is None:
            return self._stats_of_all()
        where, params = case_filters(CaseQuery(since=since, until=until))
        clause = "".join(f" AND {w}" for w in where)
        with self._db.snapshot():
            found = self._db.all(
                "SELECT c.received_at, min(d.at) AS sent,"
                " (SELECT min(a.at) FROM field_answers a WHERE a.case_id = c.id"
                "  AND a.accepted = 1) AS answered"
                f" FROM cases c JOIN dispatches d ON d.case_id = c.id WHERE 1 = 1{clause}"
                " GROUP BY c.id", params)
        to_dispatch = [_seconds(r["received_at"], r["sent"]) for r in found]
        to_answer = [_seconds(r["sent"], r["answered"]) for r in found if r["answered"]]
        return FieldStats(dispatched=len(found), answered=len(to_answer),
                          median_report_to_dispatch_seconds=median(to_dispatch),
                          median_dispatch_to_answer_seconds=median(to_answer))


    def _stats_of_all(self) -> FieldStats:
        """Every case ever, from the delays' tally (migration 0010)."""
        from smsbridge.store.stats import median_of_tally

        legs: dict[str, list[Any]] = {"dispatch": [], "answer": []}
        for leg, seconds, cases in self._db.all(
                "SELECT leg, seconds, cases FROM field_delays WHERE cases > 0"
                " ORDER BY leg, seconds"):
            legs[leg].append((seconds, cases))
        return FieldStats(
            dispatched=sum(n for _, n in legs["dispatch"]),
            answered=sum(n for _, n in legs["answer"]),
            median_report_to_dispatch_seconds=median_of_tally(legs["dispatch"]),
            median_dispatch_to_answer_seconds=median_of_tally(legs["answer"]))


def _seconds(start: str, end: str) -> float:
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start))
               .total_seconds())


def median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


_ANSWERS = ("SELECT a.*, o.state AS reply_state, m.sender AS sender, c.ticket AS case_ticket"
            " FROM field_answers a LEFT JOIN outbox o ON o.id = a.reply_id"
            " LEFT JOIN messages m ON m.id = a.message_id LEFT JOIN cases c ON c.id = a.case_id")


def _answer(row: sqlite3.Row) -> AnswerRecord:
    data = dict(row)
    return AnswerRecord(
        id=data["id"], at=data["at"], officer=data["officer"], case_id=data["case_id"],
        ticket=data["ticket"], finding=data["finding"], note=data["note"],
        accepted=bool(data["accepted"]), reason=data["reason"],
        new_status=data["new_status"], reply_id=data["reply_id"],
        reply_state=data["reply_state"], sender=data["sender"],
        case_ticket=data["case_ticket"])

