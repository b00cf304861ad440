"""The field loop's records: cases dispatched to officers and officers' answers
(``store.field``).

Whether an answer may change a case is ``field.judge``'s to say; this module reads the
facts for it and writes down what it decides. The case changes through
``changes.change_case``, the one path that tells the reporter.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from smsbridge import tickets
from smsbridge.errors import InvalidInput
from smsbridge.fieldwork.answers import (
    WORD_MASK,
    Accept,
    AnswerRecord,
    DispatchFacts,
    DispatchRecord,
    FieldStats,
    Officer,
    new_code,
)
from smsbridge.i18n import _
from smsbridge.models import Case, CaseQuery
from smsbridge.replies import Notices
from smsbridge.store.cases import Cases
from smsbridge.store.changes import CaseChanges
from smsbridge.store.db import Database
from smsbridge.store.outbox import Outbox
from smsbridge.store.rows import case_filters


class FieldLog:
    """The dispatches and field_answers tables, over the cases and the outbox."""

    def __init__(self, db: Database, cases: Cases, outbox: Outbox, changes: CaseChanges):
        self._db = db
        self._cases = cases
        self._outbox = outbox
        self._changes = changes

    # sending a case to officers ---------------------------------------------------------

    def dispatch(self, ticket: str, officers: Sequence[Officer], *,
                 compose: Callable[[Case, str], str], operator: str, team: str | None = None,
                 note: str | None = None) -> tuple[Case, list[DispatchRecord]]:
        """One SMS per officer with ``compose(case, code)``, each with its own one-time
        code and recorded; earlier dispatches of the case superseded (their officers'
        answers no longer count); the case assigned (to the team when sent to one) and,
        when new, moved to checking."""
        if not officers:
            raise InvalidInput(_("nobody to send the case to"))
        with self._db.transaction():
            case = self._cases.get(ticket)
            if case.status in tickets.CLOSED_STATUSES:
                raise InvalidInput(_("{ticket} is {status}; reopen it first (cases update "
                                     "--status checking --note WHY) to send it out again"
                                     ).format(ticket=case.ticket,
                                              status=tickets.status_name(case.status)))
            now = self._db.now()
            self._db.execute("UPDATE dispatches SET superseded_at = ? WHERE case_id = ?"
                             " AND superseded_at IS NULL", (now, case.id))
            ids = []
            for officer in officers:
                code = new_code()
                item = self._outbox.add(officer.number, compose(case, code), kind="dispatch",
                                        case_id=case.id, created_by=operator, at=now)
                ids.append(self._db.scalar(
                    "INSERT INTO dispatches (case_id, officer, team, outbox_id, at, operator,"
                    " login, note, code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (case.id, officer.name, team, item.id, now, operator,
                     self._cases.audit.login, note, code)))
            names = ", ".join(o.name for o in officers)
            self._cases.event(case.id, operator, "dispatch",
                              note=f"sent to {names}" + (f" (team {team})" if team else "")
                              + (f": {note}" if note else ""))
            # Through the one path of every change; checking has no reporter's notice.
            after = self._changes.change_case(
                case.ticket, operator=operator, notices=Notices(),
                assign=team or officers[0].name,
                status="checking" if case.status == "new" else None)
            self._cases.touch(case.id)
            records = [r for r in self.dispatches(case.id) if r.id in ids]
        return after, records

    def dispatches(self, case_id: int) -> list[DispatchRecord]:
        return [DispatchRecord(
            id=r["id"], case_id=r["case_id"], officer=r["officer"], team=r["team"],
            at=r["at"], operator=r["operator"], note=r["note"], outbox_id=r["outbox_id"],
            state=r["state"], sent_at=r["sent_at"], delivered_at=r["delivered_at"],
            error=r["last_error"], code=r["code"], superseded=r["superseded_at"] is not None)
            for r in self._db.all(
                "SELECT d.*, o.state, o.sent_at, o.delivered_at, o.last_error"
                " FROM dispatches d LEFT JOIN outbox o ON o.id = d.outbox_id"
                " WHERE d.case_id = ? ORDER BY d.id", (case_id,))]

    # officers' answers ------------------------------------------------------------------

    def answer_facts(self, number: int, officer: str | None = None
                     ) -> tuple[tickets.CaseFacts | None, DispatchFacts]:
        """The case with this ticket number, and what its dispatches say of ``officer``."""
        row = self._db.one("SELECT id, ticket, status, assigned_to FROM cases WHERE id = ?",
                           (number,))
        if row is None:
            return None, DispatchFacts()
        rows = self._db.all("SELECT officer, code, superseded_at FROM dispatches"
                            " WHERE case_id = ? ORDER BY id", (number,))
        current = tuple(r["officer"] for r in rows if r["superseded_at"] is None)
        mine = [r for r in rows if r["officer"] == officer]
        code = next((r["code"] for r in mine if r["superseded_at"] is None), None)
        used: tuple[tuple[str | None, str], ...] = ()
        if code is not None:
            used = tuple((r["finding"], r["note"]) for r in self._db.all(
                "SELECT finding, note FROM field_answers WHERE case_id = ? AND officer = ?"
                " AND code = ? AND accepted = 1", (number, officer, code)))
        facts = DispatchFacts(
            current=current, ever=tuple(dict.fromkeys(r["officer"] for r in rows)), code=code,
            earlier_codes=tuple(r["code"] for r in mine if r["superseded_at"] and r["code"]),
            used=used)
        return tickets.CaseFacts(row["id"], row["ticket"], row["status"],
                                 row["assigned_to"]), facts

    def record_answer(self, *, message_id: int | None, officer: str | None,
                      case_id: int | None, ticket: str | None, finding: str | None,
                      note: str, accepted: bool, reason: str | None = None,
                      new_status: str | None = None, at: str | None = None,
                      code: str | None = None, attempt: str | None = None,
                      word_hash: str | None = None) -> int:
        with self._db.transaction():
            return int(self._db.scalar(
                "INSERT INTO field_answers (at, message_id, officer, case_id, ticket, finding,"
                " note, accepted, reason, new_status, code, attempt, word_hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (at or self._db.now(), message_id, officer, case_id, ticket, finding, note,
                 int(accepted), reason, new_status, code, attempt, word_hash)))

    # words tried by others --------------------------------------------------------------

    def attempts(self, word_hash: str, attempt: str, *, since: str) -> int:
        """Failed answers of kind ``attempt`` against the word with this hash since then."""
        return int(self._db.scalar(
            "SELECT count(*) FROM field_answers WHERE word_hash = ? AND attempt = ?"
            " AND at >= ?", (word_hash, attempt, since)))

    def lock(self, word_hash: str, *, owners: str, reason: str, at: str) -> bool:
        """Lock the word with this hash; False when it already was."""
        with self._db.transaction():
            return self._db.one(
                "INSERT INTO field_locks (word_hash, owners, at, reason) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (word_hash) DO NOTHING RETURNING id",
                (word_hash, owners, at, reason)) is not None

    def locked(self, hashes: Sequence[str] | None = None) -> list[tuple[str, str, str, str]]:
        """(word hash, owners, at, reason) of the locked words, of ``hashes`` only when
        given (the words the config holds now: a changed word is no longer locked)."""
        rows = self._db.all("SELECT word_hash, owners, at, reason FROM field_locks ORDER BY id")
        return [(r[0], r[1], r[2], r[3]) for r in rows
                if hashes is None or r[0] in hashes]

    def apply(self, accept: Accept, *, message_id: int | None, ticket: str | None,
              notices: Notices, at: str) -> tuple[Case, int]:
        """An accepted answer: the case moves through ``accept.steps`` as its officer,
        with their words as the note (or gets the note alone), and the reporter's notice
        is queued with the change; returns the case and the answer's id."""
        officer, case = accept.officer.name, accept.case
        with self._db.transaction():
            before = self._cases.by_id(case.id)
            if accept.steps:
                after = self._changes.change_case(
                    before.ticket, operator=officer, notices=notices,
                    through=accept.steps[:-1], status=accept.steps[-1],
                    note=accept.note or None)
            else:
                said = f"says {accept.finding}, status stays {before.status}" \
                    if accept.finding else ""
                after = self._changes.change_case(
                    before.ticket, operator=officer, notices=notices,
                    note="; ".join(filter(None, [accept.note, said])))
            answer = self.record_answer(
                message_id=message_id, officer=officer, case_id=case.id, ticket=ticket,
                finding=accept.finding, note=accept.note, accepted=True,
                new_status=after.status if after.status != before.status else None, at=at,
                code=accept.code)
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

    def answers_after(self, answer_id: int, *, limit: int = 200) -> list[AnswerRecord]:
        """Answers recorded after ``answer_id``, oldest first (``cases watch``)."""
        return [_answer(r) for r in self._db.all(
            f"{_ANSWERS} WHERE a.id > ? ORDER BY a.id LIMIT ?", (answer_id, limit))]

    def last_answer_id(self) -> int:
        return int(self._db.scalar("SELECT coalesce(max(id), 0) FROM field_answers"))

    def hide_words(self, message_ids: Sequence[int], words: re.Pattern[str]) -> None:
        """Verification words (what ``words`` finds) out of the stored messages of one
        SMS: each part's text with them made ``****`` and its raw PDU withheld (the hash
        that dedupes it stays), so neither ``messages list`` nor the forensic PDU
        teaches a word to whoever reads them. A word split across two parts is starred
        across them, character for character."""
        if not message_ids:
            return
        marks = ", ".join("?" * len(message_ids))
        rows = self._db.all(f"SELECT id, text FROM messages WHERE id IN ({marks})"
                            " ORDER BY coalesce(concat_seq, 0), id", tuple(message_ids))
        texts = [r["text"] or "" for r in rows]
        masked = [words.sub(WORD_MASK, t) for t in texts]
        joined = "".join(masked)
        if words.search(joined):  # a word across a part boundary
            starred = words.sub(lambda m: "*" * len(m.group(0)), "".join(texts))
            cuts = [sum(len(t) for t in texts[:i]) for i in range(len(texts) + 1)]
            masked = [starred[cuts[i]:cuts[i + 1]] for i in range(len(texts))]
        with self._db.transaction():
            for row, before, after in zip(rows, texts, masked, strict=True):
                if after == before:
                    continue
                self._db.execute("UPDATE messages SET text = ?, pdu = ? WHERE id = ?",
                                 (after, WITHHELD_PDU, row["id"]))

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
        return FieldStats(
            dispatched=len(found), answered=len(to_answer),
            median_report_to_dispatch_seconds=(
                statistics.median(to_dispatch) if to_dispatch else None),
            median_dispatch_to_answer_seconds=statistics.median(to_answer) if to_answer else None)


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


# What stands in messages.pdu for an SMS that held a verification word: its hash
# (pdu_hash) still tells it apart, its bytes are gone.
WITHHELD_PDU = "withheld: it held a verification word (pdu_hash is its SHA-256)"


def _seconds(start: str, end: str) -> float:
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start))
               .total_seconds())



_ANSWERS = ("SELECT a.*, o.state AS reply_state,"
            " shown(m.sender_sealed, m.sender_mask, m.sender) AS sender, c.ticket AS case_ticket"
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
        case_ticket=data["case_ticket"], attempt=data["attempt"])

