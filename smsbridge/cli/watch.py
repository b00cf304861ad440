"""``cases watch``: new and changed cases as they happen, one line each.

Waiting: SQLite's ``PRAGMA data_version`` changes when another connection commits.
It is read from the WAL index in shared memory (no disk access, a few microseconds),
so the loop asks it after a pause that doubles while nothing happens (50 ms up to
1 s) and starts short again after a change: a change shows within a second, an idle
watch costs next to nothing. Chosen over inotify on the ``-wal`` file, which fires
on frames written before a commit and on checkpoints (each wake then still needs
this check), needs a library or ctypes, and does not work on every filesystem.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from smsbridge.cli.desk import thousands
from smsbridge.cli.output import category_shown, clock_time, fit, to_json
from smsbridge.i18n import NP_, _, ngettext, pgettext
from smsbridge.models import Case, CaseQuery, Change, to_iso
from smsbridge.privacy import mask_number, neutralise
from smsbridge.tickets import status_name
from smsbridge.triage.urgent import Deadlines, span_text, status_since

if TYPE_CHECKING:
    from smsbridge.fieldwork.answers import AnswerRecord
    from smsbridge.store import Store

MIN_WAIT = 0.05
MAX_WAIT = 1.0
BATCH = 200
# How often the watch looks for cases that ran past their deadline (nothing is
# written when a case becomes overdue: time alone does it).
LATE_EVERY = timedelta(seconds=30)

# Each line's label, in the desk's language when shown (--json keeps the actions).
LABELS = {"created": NP_("watch", "NEW"), "followup": NP_("watch", "MORE"),
          "status": NP_("watch", "STATUS"), "duplicate": NP_("watch", "DUPLICATE"),
          "note": NP_("watch", "NOTE"), "assign": NP_("watch", "ASSIGN"),
          "reply": NP_("watch", "REPLY"), "category": NP_("watch", "CATEGORY"),
          "place": NP_("watch", "PLACE"), "flag": NP_("watch", "FLAG"),
          "urgent": NP_("watch", "URGENT"), "alert": NP_("watch", "ALERT"),
          "dispatch": NP_("watch", "DISPATCH"), "notice": NP_("watch", "NOTICE"),
          "reply_sent": NP_("watch", "REPLY_SENT"), "reply_failed": NP_("watch", "REPLY_FAILED"),
          "reveal": NP_("watch", "REVEAL")}


# Lines that are not a change of a case: an officer's answer, one refused, a case late.
_OTHER_LABELS = (NP_("watch", "ANSWER"), NP_("watch", "REFUSED"), NP_("watch", "LATE"))


def _label(english: str) -> str:
    return pgettext("watch", english)


def rings(change: Change) -> bool:
    """An urgent report, or a verification word locked against guessing, rings the bell
    whether or not ``--bell`` asked for new cases."""
    return ((change.case.urgent and change.event.action in ("created", "urgent"))
            or change.event.action == "alert")


def change_line(change: Change, *, zone: tzinfo | None, width: int = 80) -> str:
    """One change in one line of ``width`` cells."""
    event, case = change.event, change.case
    label = _label(LABELS[event.action]) if event.action in LABELS else event.action.upper()
    if event.action == "created" and case.urgent:
        label = _label("NEW") + " !!"
    when = clock_time(event.at, zone=zone)
    if event.action == "created":
        place = f"{case.place} | " if case.place else ""
        # ≈: linked to an earlier open report as possibly the same incident.
        same = "≈ " if case.incident_id not in (None, case.id) else ""
        what = f"{category_shown(case.category)}  {same}{place}{case.text}"
    elif event.action == "followup":
        what = event.note or ""
    elif event.action == "status":
        what = (f"{status_name(event.old_status or '-')} -> "
                f"{status_name(event.new_status or '-')}") + (
            f": {event.note}" if event.note else "") + f" ({event.operator})"
    else:
        what = f"{event.note or ''} ({event.operator})"
    return fit(neutralise(f"{when} {label:<9} {case.ticket} {what}"), width).rstrip()


def answer_line(answer: AnswerRecord, *, zone: tzinfo | None, width: int = 80) -> str:
    """An officer's SMS answer: what it said and what it changed, or why it changed
    nothing (REFUSED: a wrong word, another number, a case not theirs)."""
    said = {"confirmed": "BENAR", "fake": "PALSU", "resolved": "SELESAI"}.get(
        answer.finding or "") or pgettext("answer", "note")
    who = answer.officer or mask_number(answer.sender) or "?"
    ticket = answer.case_ticket or answer.ticket or "-"
    if answer.accepted:
        label = _label("ANSWER")
        what = f"{who}: {said}" + (f" -> {status_name(answer.new_status)}"
                                   if answer.new_status else "")
    else:
        label = _label("REFUSED")
        what = f"{who}: {answer.reason} ({said})"
    note = f' "{answer.note}"' if answer.note else ""
    line = f"{clock_time(answer.at, zone=zone)} {label:<9} {ticket} {what}{note}"
    return fit(neutralise(line), width).rstrip()


def answer_dict(answer: AnswerRecord) -> dict[str, Any]:
    return {"id": None, "at": answer.at, "action": "answer" if answer.accepted else "refused",
            "ticket": answer.case_ticket or answer.ticket, "officer": answer.officer,
            "sender": mask_number(answer.sender), "finding": answer.finding,
            "new_status": answer.new_status, "reason": answer.reason, "note": answer.note}


def late_line(case: Case, late: timedelta, *, now: datetime, zone: tzinfo | None,
              width: int = 80) -> str:
    """A case that has just run past its status's deadline."""
    when = clock_time(to_iso(now), zone=zone)
    what = _("{status} {span} past its deadline").format(
        status=status_name(case.status), span=span_text(late)) + f"  {case.text}"
    return fit(neutralise(f"{when} {_label('LATE'):<9} {case.ticket} {what}"), width).rstrip()


def late_dict(case: Case, late: timedelta, *, now: datetime) -> dict[str, Any]:
    return {"id": None, "at": to_iso(now), "action": "overdue", "ticket": case.ticket,
            "status": case.status, "category": case.category, "place": case.place,
            "urgent": case.urgent, "overdue_minutes": int(late.total_seconds() // 60)}


def change_dict(change: Change) -> dict[str, Any]:
    event, case = change.event, change.case
    return {"id": event.id, "at": event.at, "action": event.action, "ticket": case.ticket,
            "status": case.status, "category": case.category, "place": case.place,
            "urgent": case.urgent,
            "operator": event.operator, "old_status": event.old_status,
            "new_status": event.new_status, "note": event.note,
            "text": case.text if event.action == "created" else None}


def watch(store: Store, query: CaseQuery, *, show: Callable[[str], None], bell: bool = False,
          as_json: bool = False, zone: tzinfo | None = None, width: int = 80, last: int = 10,
          stop: Callable[[], bool] = lambda: False,
          sleep: Callable[[float], None] = time.sleep,
          deadlines: Deadlines | None = None,
          now: Callable[[], datetime] | None = None) -> None:
    """Show the ``last`` matching changes, then every new one until ``stop()`` (or
    Ctrl-C, which the caller ends quietly); with ``deadlines``, how many cases are
    overdue at the start and each case as it runs past its deadline."""

    def emit(change: Change, *, live: bool = True) -> None:
        if as_json:
            show(to_json(change_dict(change), indent=None))
            return
        ring = live and (rings(change) or (bell and change.event.action == "created"))
        show(("\a" if ring else "") + change_line(change, zone=zone, width=width))

    clock = now or (lambda: datetime.now().astimezone())
    desk = store.desk
    version = desk.data_version()
    seen = desk.last_change_id()
    for change in desk.newest_changes(last, query):
        emit(change, live=False)
        seen = max(seen, change.event.id)
    answered = store.field.last_answer_id()
    checked = clock()
    cutoffs = _cutoffs(deadlines, checked)
    if cutoffs and not as_json:
        count = desk.count(dataclasses.replace(query, overdue=cutoffs, limit=None))
        if count:
            show(ngettext("{count} case overdue now: {command}",
                          "{count} cases overdue now: {command}", count).format(
                              count=thousands(count), command="smsbridge cases list --overdue"))
    wait = MIN_WAIT
    while not stop():
        sleep(wait)
        moment = clock()
        if deadlines is not None and moment - checked >= LATE_EVERY:
            later = _cutoffs(deadlines, moment)
            for case in desk.crossed_deadline(query, cutoffs, later):
                late = deadlines.late_by(case.status, datetime.fromisoformat(status_since(
                    case.status, case.received_at, case.updated_at)), moment)
                if late is not None:
                    show(to_json(late_dict(case, late, now=moment), indent=None) if as_json
                         else late_line(case, late, now=moment, zone=zone, width=width))
            checked, cutoffs = moment, later
        current = desk.data_version()
        if current == version:
            wait = min(wait * 2, MAX_WAIT)
            continue
        version, wait = current, MIN_WAIT
        for answer in store.field.answers_after(answered):
            answered = answer.id
            # A refused answer shows whatever the filters: someone may be trying words.
            if not answer.accepted or desk.matches(query, answer.case_id):
                show(to_json(answer_dict(answer), indent=None) if as_json
                     else answer_line(answer, zone=zone, width=width))
        while True:
            top = desk.last_change_id()
            changes = desk.changes_after(seen, query, limit=BATCH)
            for change in changes:
                emit(change)
            if len(changes) < BATCH:
                # Lines of cases the filters leave out are passed over for good.
                seen = max(top, seen)
                break
            seen = changes[-1].event.id


def _cutoffs(deadlines: Deadlines | None, moment: datetime) -> tuple[tuple[str, str], ...]:
    if deadlines is None:
        return ()
    return tuple((s, to_iso(t)) for s, t in deadlines.cutoffs(moment).items())
