"""The one path for every change of a case: an operator's update, a merge, an officer's
answer. The case, its history and the reporters' notices commit together, so a notice is
queued exactly once per change, whatever moment the process dies at.

Which notice a status gets, and whether it may go now, is ``replies.Notices``'s to say;
this module reads the facts for it (how many notices the number had, the line's budget
in parts) and writes down what it decides. When a case reaches a status, the reporters
of every case merged into it (its duplicates, and theirs) are told too, once per number.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from smsbridge.models import Case, to_iso
from smsbridge.replies import NoticeCounts, Notices
from smsbridge.store.cases import Cases
from smsbridge.store.db import Database
from smsbridge.store.outbox import Outbox

# Statuses whose news reaches the reporters of the cases merged into the case: what
# happened to the incident. (That their own report became a duplicate is said once, when
# it is merged.)
INCIDENT_STATUSES = ("confirmed", "resolved")


class CaseChanges:
    def __init__(self, db: Database, cases: Cases, outbox: Outbox):
        self._db = db
        self._cases = cases
        self._outbox = outbox

    def change_case(self, ticket: str, *, operator: str, notices: Notices,
                    through: Sequence[str] = (), **changes: object) -> Case:
        """``Cases.update(ticket, operator=…, **changes)`` and the notices it calls for,
        in one transaction. ``through``: statuses the case passes on its way to
        ``changes["status"]`` (an officer's "resolved" on a case still being checked),
        each its own line of history, but one notice: the one for where it ends."""
        with self._db.transaction():
            before = self._cases.get(ticket)
            for step in through:
                self._cases.update(before.ticket, operator=operator, status=step,
                                   note="by field answer")
            after = self._cases.update(before.ticket, operator=operator,
                                       **changes)  # type: ignore[arg-type]
            if after.status != before.status:
                self._tell(after, after.status, notices, operator=operator)
                if after.status in INCIDENT_STATUSES:
                    # Once per number: its token, not its mask (two numbers may share
                    # one).
                    told = {after.reporter_token or after.reporter}
                    for merged in self._merged_into(after.id):
                        if (merged.reporter_token or merged.reporter) not in told:
                            told.add(merged.reporter_token or merged.reporter)
                            self._tell(merged, after.status, notices, operator=operator)
            return after

    def merge(self, original: str, others: Sequence[str], *, operator: str, notices: Notices,
              note: str | None = None) -> list[Case]:
        """Mark each of ``others`` a duplicate of ``original`` (all or none)."""
        with self._db.transaction():
            return [self.change_case(t, operator=operator, notices=notices,
                                     status="duplicate", duplicate_of=original, note=note)
                    for t in others]

    def _merged_into(self, case_id: int) -> list[Case]:
        """The cases marked duplicates of ``case_id``, and of those, and so on."""
        found: list[Case] = []
        seen, todo = {case_id}, [case_id]
        while todo:
            ids = [r[0] for r in self._db.all(
                f"SELECT id FROM cases WHERE status = 'duplicate' AND duplicate_of IN"
                f" ({', '.join('?' * len(todo))}) ORDER BY id", todo)]
            todo = [i for i in ids if i not in seen]
            seen.update(todo)
            found += [self._cases.by_id(i) for i in todo]
        return found

    def _tell(self, case: Case, status: str, notices: Notices, *, operator: str) -> None:
        """Queue the reporter's notice that ``case`` (or the incident it was merged
        into) is now ``status``, or say in its history why not."""
        moment = datetime.fromisoformat(self._db.now())
        hour_ago = to_iso(moment - timedelta(hours=1))
        counts = NoticeCounts(
            self._outbox.count_notices(case.reporter_token or case.reporter, since=hour_ago),
            self._outbox.count_auto_replies(since=hour_ago),
            self._outbox.count_auto_replies(since=to_iso(moment - timedelta(days=1))))
        decided = notices.decide(case.reporter, status, case.ticket, counts,
                                 written_problem=case.reporter_problem)
        if decided is None:
            return
        text, reply = decided
        if not reply.send:
            self._cases.event(case.id, operator, "notice",
                              note=f"no notice of {status}: {reply.reason}")
            return
        item = self._outbox.add(self._cases.stored_reporter(case.id), text, kind="notice",
                                case_id=case.id,
                                created_by=operator)
        whose = "case" if case.status == status else "incident it was merged into"
        self._cases.event(case.id, operator, "notice",
                          note=f"the reporter is told the {whose} is {status} "
                               f"(SMS #{item.id})")
