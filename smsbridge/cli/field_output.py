"""How the field loop looks on a terminal and in JSON: a case's timeline, a dispatch,
officers' answers, the loop's figures.

Officers' words pass through ``privacy.neutralise`` like citizens' (an SMS is an SMS);
officers are shown by name, reporters' numbers masked unless revealed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from smsbridge.cli.output import clock_time, desk_time, duration, fit, shown_number
from smsbridge.fieldwork.answers import AnswerRecord, DispatchRecord, FieldStats
from smsbridge.models import Case, CaseDetail, OutboxItem
from smsbridge.privacy import mask_number, neutralise

# What each finding is called in an officer's SMS, for the desk to read it back.
_SAID = {"confirmed": "BENAR", "fake": "PALSU", "resolved": "SELESAI", None: "note"}
# Where two entries share a second, the order the loop happened in.
_ORDER = {"report": 0, "ack": 1, "status": 2, "operator": 3, "dispatch": 4, "answer": 5,
          "notice": 6}


@dataclass(frozen=True)
class Entry:
    at: str
    kind: str
    what: str
    state: str | None = None  # the SMS's delivery state, where an SMS went out
    state_at: str | None = None  # when it was sent or delivered


def timeline(detail: CaseDetail, dispatches: Sequence[DispatchRecord],
             answers: Sequence[AnswerRecord], *, reveal: bool = False) -> list[Entry]:
    """The case's loop in order: report, replies to the reporter, dispatches, the field's
    answers (refused ones too: the desk must see someone tried), notices."""
    case = detail.case
    entries = [Entry(case.received_at, "report", f"report received ({case.channel})")]
    replies: dict[int, OutboxItem] = {o.id: o for o in detail.outbox}
    changes = [(e.at, e.new_status) for e in detail.events if e.new_status]
    for item in detail.outbox:
        if item.kind in ("ack", "status", "operator", "notice"):
            label = {"ack": "acknowledgement", "status": "status answer",
                     "operator": f"reply by {item.created_by}", "notice": "notice"}[item.kind]
            if item.kind == "notice":
                # Queued with the status change it tells of: the last one up to then.
                told = [status for at, status in changes if at <= item.created_at]
                label += f" ({told[-1]})" if told else ""
            entries.append(Entry(item.created_at, item.kind,
                                 f"{label} to {shown_number(item.number, reveal)}",
                                 *_state(item.state, item.sent_at, item.delivered_at)))
    for d in dispatches:
        team = f" (team {d.team})" if d.team else ""
        note = f": {d.note}" if d.note else ""
        entries.append(Entry(d.at, "dispatch", f"dispatch by {d.operator} to {d.officer}"
                             f"{team}{note}", *_state(d.state, d.sent_at, d.delivered_at)))
    for a in answers:
        said = _SAID.get(a.finding, a.finding or "note")
        words = f' "{a.note}"' if a.note else ""
        if a.accepted:
            change = f" -> {a.new_status}" if a.new_status else ", status unchanged"
            what = f"answer from {a.officer}: {said}{words}{change}"
        else:
            # Refused: whoever sent it is not known to be the officer.
            who = f"{a.officer}'s number" if a.officer else \
                (shown_number(a.sender, reveal) or "?")
            what = f"REFUSED answer from {who}: {said}{words} ({a.reason})"
        reply = replies.get(a.reply_id) if a.reply_id is not None else None
        if reply is not None:
            state, state_at = _state(reply.state, reply.sent_at, reply.delivered_at)
        else:
            state, state_at = a.reply_state or "none", None
        entries.append(Entry(a.at, "answer", what, f"reply {state}", state_at))
    return sorted(entries, key=lambda e: (e.at, _ORDER[e.kind]))


def _state(state: str | None, sent: str | None, delivered: str | None
           ) -> tuple[str, str | None]:
    if state is None:  # the SMS is gone from the outbox
        return "unknown", None
    return state, {"delivered": delivered, "sent": sent}.get(state)


def timeline_text(entries: Iterable[Entry], *, width: int | None = None,
                  zone: tzinfo | None = None) -> Iterator[str]:
    items = list(entries)
    yield ""
    yield f"Timeline ({len(items)}):"
    for e in items:
        when = f" {clock_time(e.state_at, zone=zone)}" if e.state_at else ""
        state = f"  [{e.state}{when}]" if e.state else ""
        line = neutralise(f"  {desk_time(e.at, seconds=True, zone=zone)}  {e.what}{state}")
        if width is None or len(line) <= width:
            yield line
        else:
            yield from textwrap.wrap(line, width=max(width, 40), subsequent_indent=" " * 23,
                                     break_on_hyphens=False)


def timeline_dicts(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    return [{"at": e.at, "kind": e.kind, "what": e.what, "state": e.state,
             "state_at": e.state_at} for e in entries]


def dispatched_text(case: Case, records: Sequence[DispatchRecord], text: str) -> Iterator[str]:
    """What ``cases dispatch`` prints: to whom, the case's state, the SMS itself."""
    sent = ", ".join(f"{r.officer} (SMS #{r.outbox_id})" for r in records)
    assigned = f", assigned to {case.assigned_to}" if case.assigned_to else ""
    yield f"{case.ticket}: sent to {sent}; the daemon sends it. Now {case.status}{assigned}."
    yield "The SMS:"
    for line in text.splitlines():
        yield "  " + neutralise(line)


def answers_text(answers: Iterable[AnswerRecord], *, zone: tzinfo | None = None,
                 width: int = 80) -> Iterator[str]:
    """``cases answers``: one line per officer's SMS, newest first, in ``width`` cells
    (the outcome and the note get what the rest leaves)."""
    for a in answers:
        who = a.officer or mask_number(a.sender) or "?"
        said = _SAID.get(a.finding, a.finding or "note")
        if a.accepted:
            outcome = f"accepted -> {a.new_status}" if a.new_status else "accepted"
        else:
            tried = {"guess": " [guessing a word]", "leak": " [a real word, wrong phone]"}
            outcome = f"REFUSED: {a.reason}{tried.get(a.attempt or '', '')}"
        note = f'  "{a.note}"' if a.note else ""
        ticket = a.case_ticket or a.ticket or "-"
        yield fit(neutralise(f"{desk_time(a.at, zone=zone)}  {who:<10} {ticket:<9} "
                             f"{said:<7} {outcome}{note}"), max(width, 40)).rstrip()


def answer_dict(a: AnswerRecord) -> dict[str, Any]:
    return {"at": a.at, "officer": a.officer, "sender": mask_number(a.sender),
            "ticket": a.case_ticket or a.ticket, "typed": a.ticket, "finding": a.finding,
            "note": a.note, "accepted": a.accepted, "reason": a.reason,
            "new_status": a.new_status, "reply_state": a.reply_state, "attempt": a.attempt}


def stats_text(stats: FieldStats) -> Iterator[str]:
    share = "-" if stats.answered_share is None else f"{stats.answered_share:.0%}"
    yield ""
    cases = "case" if stats.dispatched == 1 else "cases"
    yield f"Field loop: {stats.dispatched} {cases} sent to officers, {stats.answered} " \
          f"answered ({share})"
    yield f"  Median time from report to dispatch:      " \
          f"{duration(stats.median_report_to_dispatch_seconds)}"
    yield f"  Median time from dispatch to field answer: " \
          f"{duration(stats.median_dispatch_to_answer_seconds)}"


def stats_dict(stats: FieldStats) -> dict[str, Any]:
    return {"dispatched": stats.dispatched, "answered": stats.answered,
            "answered_share": stats.answered_share,
            "median_report_to_dispatch_seconds": stats.median_report_to_dispatch_seconds,
            "median_dispatch_to_answer_seconds": stats.median_dispatch_to_answer_seconds}
