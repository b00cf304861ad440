"""How the field loop looks on a terminal and in JSON: a case's timeline, a dispatch,
officers' answers, the loop's figures.

Officers' words pass through ``privacy.neutralise`` like citizens' (an SMS is an SMS);
officers are shown by name, reporters' numbers masked unless revealed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from smsbridge.cli.output import clock_time, desk_time, duration, fit, shown_number
from smsbridge.fieldwork.answers import AnswerRecord, DispatchRecord, FieldStats
from smsbridge.i18n import N_, _, ngettext
from smsbridge.models import Case, CaseDetail, OutboxItem
from smsbridge.privacy import mask_number, neutralise

# What each finding is called in an officer's SMS, for the desk to read it back.
_SAID = {"confirmed": "BENAR", "fake": "PALSU", "resolved": "SELESAI", None: "note"}
# Where two entries share a second, the order the loop happened in.
_ORDER = {"report": 0, "ack": 1, "status": 2, "operator": 3, "dispatch": 4, "answer": 5,
          "notice": 6}


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class Entry:
    at: str
    kind: str
    what: str  # in English, as --json gives it
    state: str | None = None  # the SMS's delivery state, where an SMS went out
    state_at: str | None = None  # when it was sent or delivered
    shown: str | None = None  # ``what`` in the operator's language
    state_shown: str | None = None  # ``state`` in the operator's language


def timeline(detail: CaseDetail, dispatches: Sequence[DispatchRecord],
             answers: Sequence[AnswerRecord], *, reveal: bool = False) -> list[Entry]:
    """The case's loop in order: report, replies to the reporter, dispatches, the field's
    answers (refused ones too: the desk must see someone tried), notices. Each entry
    says it in English (for --json) and in the operator's language."""
    from smsbridge.cli.output import sms_state
    from smsbridge.tickets import status_name

    english = _entries(detail, dispatches, answers, reveal, _same, _same, _same)
    local = _entries(detail, dispatches, answers, reveal, _, status_name, sms_state)
    entries = [Entry(e.at, e.kind, e.what, e.state, e.state_at, t.what, t.state)
               for e, t in zip(english, local, strict=True)]
    return sorted(entries, key=lambda e: (e.at, _ORDER[e.kind]))


def _entries(detail: CaseDetail, dispatches: Sequence[DispatchRecord],
             answers: Sequence[AnswerRecord], reveal: bool, t: Callable[[str], str],
             status: Callable[[str], str], sms: Callable[[str], str]) -> list[Entry]:
    """The loop's entries, unsorted, their words through ``t`` (a gettext or nothing),
    statuses through ``status`` and SMS states through ``sms``."""
    from smsbridge.cli.history import reason_shown
    from smsbridge.cli.output import channel_name

    case = detail.case
    channel = case.channel if t is _same else channel_name(case.channel)
    entries = [Entry(case.received_at, "report",
                     t(N_("report received ({channel})")).format(channel=channel))]
    replies: dict[int, OutboxItem] = {o.id: o for o in detail.outbox}
    changes = [(e.at, e.new_status) for e in detail.events if e.new_status]

    def state_of(state: str | None, sent: str | None, delivered: str | None
                 ) -> tuple[str, str | None]:
        code, at = _state(state, sent, delivered)
        return sms(code), at

    for item in detail.outbox:
        if item.kind in ("ack", "status", "operator", "notice"):
            number = shown_number(item.number, reveal)
            if item.kind == "ack":
                what = t(N_("acknowledgement to {number}")).format(number=number)
            elif item.kind == "status":
                what = t(N_("status answer to {number}")).format(number=number)
            elif item.kind == "operator":
                what = t(N_("reply by {operator} to {number}")).format(
                    operator=item.created_by, number=number)
            else:
                # Queued with the status change it tells of: the last one up to then.
                told = [s for at, s in changes if at <= item.created_at]
                what = (t(N_("notice ({status}) to {number}")).format(
                            status=status(told[-1]), number=number) if told else
                        t(N_("notice to {number}")).format(number=number))
            entries.append(Entry(item.created_at, item.kind, what,
                                 *state_of(item.state, item.sent_at, item.delivered_at)))
    for d in dispatches:
        if d.team:
            what = t(N_("dispatch by {operator} to {officer} (team {team})")).format(
                operator=d.operator, officer=d.officer, team=d.team)
        else:
            what = t(N_("dispatch by {operator} to {officer}")).format(
                operator=d.operator, officer=d.officer)
        note = f": {d.note}" if d.note else ""
        entries.append(Entry(d.at, "dispatch", what + note,
                             *state_of(d.state, d.sent_at, d.delivered_at)))
    for a in answers:
        said = _SAID.get(a.finding, a.finding or "note")
        if said == "note":
            said = t(N_("note"))
        words = f' "{a.note}"' if a.note else ""
        if a.accepted:
            if a.new_status:
                what = t(N_("answer from {officer}: {said}{words} -> {status}")).format(
                    officer=a.officer, said=said, words=words, status=status(a.new_status))
            else:
                what = t(N_("answer from {officer}: {said}{words}, status unchanged")).format(
                    officer=a.officer, said=said, words=words)
        else:
            reason = a.reason if t is _same else reason_shown(a.reason)
            # Refused: whoever sent it is not known to be the officer.
            if a.officer:
                what = t(N_("REFUSED answer from {officer}'s number: {said}{words} "
                            "({reason})")).format(officer=a.officer, said=said, words=words,
                                                  reason=reason)
            else:
                what = t(N_("REFUSED answer from {sender}: {said}{words} ({reason})")).format(
                    sender=shown_number(a.sender, reveal) or "?", said=said, words=words,
                    reason=reason)
        reply = replies.get(a.reply_id) if a.reply_id is not None else None
        if reply is not None:
            state, state_at = state_of(reply.state, reply.sent_at, reply.delivered_at)
        else:
            state, state_at = sms(a.reply_state or "none"), None
        entries.append(Entry(a.at, "answer", what,
                             t(N_("reply {state}")).format(state=state), state_at))
    return entries


def _state(state: str | None, sent: str | None, delivered: str | None
           ) -> tuple[str, str | None]:
    if state is None:  # the SMS is gone from the outbox
        return "unknown", None
    return state, {"delivered": delivered, "sent": sent}.get(state)


def timeline_text(entries: Iterable[Entry], *, width: int | None = None,
                  zone: tzinfo | None = None) -> Iterator[str]:
    items = list(entries)
    yield ""
    yield _("Timeline ({count}):").format(count=len(items))
    for e in items:
        shown_state = e.state_shown or e.state
        when = f" {clock_time(e.state_at, zone=zone)}" if e.state_at else ""
        state = f"  [{shown_state}{when}]" if shown_state else ""
        what = e.shown or e.what
        line = neutralise(f"  {desk_time(e.at, seconds=True, zone=zone)}  {what}{state}")
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
    from smsbridge.tickets import status_name

    sent = ", ".join(f"{r.officer} (SMS #{r.outbox_id})" for r in records)
    if case.assigned_to:
        yield _("{ticket}: sent to {officers}; the daemon sends it. Now {status}, assigned to "
                "{name}.").format(ticket=case.ticket, officers=sent,
                                  status=status_name(case.status), name=case.assigned_to)
    else:
        yield _("{ticket}: sent to {officers}; the daemon sends it. Now {status}.").format(
            ticket=case.ticket, officers=sent, status=status_name(case.status))
    yield _("The SMS:")
    for line in text.splitlines():
        yield "  " + neutralise(line)


def answers_text(answers: Iterable[AnswerRecord], *, zone: tzinfo | None = None,
                 width: int = 80) -> Iterator[str]:
    """``cases answers``: one line per officer's SMS, newest first, in ``width`` cells
    (the outcome and the note get what the rest leaves)."""
    from smsbridge.cli.history import reason_shown
    from smsbridge.tickets import status_name

    tried = {"guess": " [" + _("guessing a word") + "]",
             "leak": " [" + _("a real word, wrong phone") + "]"}
    for a in answers:
        who = a.officer or mask_number(a.sender) or "?"
        said = _SAID.get(a.finding, a.finding or "note")
        if said == "note":
            said = _("note")
        if a.accepted:
            outcome = (_("accepted -> {status}").format(status=status_name(a.new_status))
                       if a.new_status else _("accepted"))
        else:
            outcome = _("REFUSED: {reason}").format(reason=reason_shown(a.reason)) + tried.get(
                a.attempt or "", "")
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
    yield ngettext("Field loop: {count} case sent to officers, {answered} answered ({share})",
                   "Field loop: {count} cases sent to officers, {answered} answered ({share})",
                   stats.dispatched).format(count=stats.dispatched, answered=stats.answered,
                                            share=share)
    first = _("Median time from report to dispatch:")
    second = _("Median time from dispatch to field answer:")
    pad = max(len(first), len(second)) + 1
    yield f"  {first:<{pad}}{duration(stats.median_report_to_dispatch_seconds)}"
    yield f"  {second:<{pad}}{duration(stats.median_dispatch_to_answer_seconds)}"


def stats_dict(stats: FieldStats) -> dict[str, Any]:
    return {"dispatched": stats.dispatched, "answered": stats.answered,
            "answered_share": stats.answered_share,
            "median_report_to_dispatch_seconds": stats.median_report_to_dispatch_seconds,
            "median_dispatch_to_answer_seconds": stats.median_dispatch_to_answer_seconds}
