"""How cases look on a terminal, in JSON and in CSV; and dates as operators type them.

Everything a citizen wrote passes through ``privacy.neutralise`` before it reaches a
terminal, and every reporter number through ``privacy.mask_number`` unless the
operator asked to reveal it (the caller records that). Heavy modules (json, csv) are
imported where used: this module is loaded on every ``smsbridge`` start.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta, tzinfo
from typing import IO, Any

from smsbridge.cli.when import days_ago as days_ago  # report_cmd.py reads them here
from smsbridge.cli.when import window as window
from smsbridge.cli.words import (
    MONTHS as MONTHS,
)
from smsbridge.cli.words import (
    action_name as action_name,
)
from smsbridge.cli.words import (
    channel_name as channel_name,
)
from smsbridge.cli.words import (
    clock_time as clock_time,
)
from smsbridge.cli.words import (
    desk_time as desk_time,
)
from smsbridge.cli.words import (
    local_time as local_time,
)
from smsbridge.cli.words import (
    message_kind as message_kind,
)
from smsbridge.cli.words import (
    sms_kind as sms_kind,
)
from smsbridge.cli.words import (
    sms_state as sms_state,
)
from smsbridge.cli.words import (
    times_in as times_in,
)
from smsbridge.cli.words import (
    zone_name as zone_name,
)
from smsbridge.i18n import N_, NP_, _, ngettext, pgettext
from smsbridge.models import (
    AuditEntry,
    Case,
    CaseDetail,
    OutboxItem,
    Stats,
    TrackRecord,
)
from smsbridge.privacy import csv_safe, mask_number, neutralise

CSV_COLUMNS = ("ticket", "status", "reporter", "channel", "received_at", "updated_at",
               "assigned_to", "duplicate_of", "incomplete", "flags", "messages", "category",
               "place", "text")

def shown_number(number: str | None, reveal: bool) -> str:
    return (number or "") if reveal else mask_number(number)


def category_shown(category: str | None) -> str:
    return (category or "-").replace("_", " ")


# --- widths: a table row must stay one row, whatever script or emoji a text holds --


def _cell_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells (an ellipsis marks a cut), then padded."""
    cells, out = 0, []
    widths = [_cell_width(c) for c in text]
    if sum(widths) <= width:
        return text + " " * (width - sum(widths))
    for char, w in zip(text, widths, strict=True):
        if cells + w > width - 1:
            break
        out.append(char)
        cells += w
    return "".join(out) + "…" + " " * (width - 1 - cells)


def _rows(heads: tuple[str, ...], sizes: tuple[int, ...], rows: Sequence[tuple[str, ...]],
          texts: Sequence[str], width: int) -> Iterator[str]:
    """A table whose last column (a text) takes what the others leave of ``width``.

    The number column (the last of ``sizes``'s fixed ones) is made wide enough for
    every number shown: a number cut short could be read as another, so with --reveal
    a number is never cut, and the line is longer than ``width`` rather than lie.
    """
    numbers = [neutralise(r[-1]) for r in rows]
    widest = max([sizes[-1], *(sum(map(_cell_width, n)) for n in numbers)])
    sizes = (*sizes[:-1], widest)
    text_width = max(width - sum(sizes) - len(sizes), 12)
    yield (" ".join(fit(h, s) for h, s in zip(heads, sizes, strict=True)) + " "
           + pgettext("column", "TEXT"))
    for cells, text in zip(rows, texts, strict=True):
        row = " ".join(fit(neutralise(c), s) for c, s in zip(cells, sizes, strict=True))
        yield (row + " " + fit(neutralise(text), text_width)).rstrip()


def outbox_table(items: Iterable[OutboxItem], *, reveal: bool, width: int = 80,
                 zone: tzinfo | None = None) -> Iterator[str]:
    """One line per SMS of the outbox: why it failed, then its text."""
    rows, texts = [], []
    for item in items:
        rows.append((f"#{item.id}", sms_state(item.state), desk_time(item.created_at, zone=zone),
                     item.ticket or "-", str(item.attempts), shown_number(item.number, reveal)))
        error = f"[{item.last_error}] " if item.last_error and item.state != "sent" else ""
        texts.append(error + item.text)
    heads = tuple(pgettext("column", h) for h in OUTBOX_HEADS)
    state = max([9, *(len(r[1]) for r in rows)])
    created = max([12, *(len(r[2]) for r in rows)])
    yield from _rows(heads, (7, state, created, 9, 5, 14), rows, texts, max(width, 60))


OUTBOX_HEADS = (NP_("column", "ID"), NP_("column", "STATE"), NP_("column", "CREATED"),
                NP_("column", "TICKET"), NP_("column", "TRIES"), NP_("column", "NUMBER"))


def outbox_dict(item: OutboxItem, *, reveal: bool) -> dict[str, Any]:
    return {
        "id": item.id, "state": item.state, "kind": item.kind, "ticket": item.ticket,
        "number": shown_number(item.number, reveal), "text": item.text,
        "attempts": item.attempts, "last_error": item.last_error,
        "created_at": item.created_at, "created_by": item.created_by,
        "next_attempt_at": item.next_attempt_at, "sent_at": item.sent_at,
        "delivered_at": item.delivered_at,
    }


def audit_dict(entry: AuditEntry) -> dict[str, Any]:
    return {"at": entry.at, "login": entry.login, "operator": entry.operator,
            "action": entry.action, "detail": entry.detail}


def audit_text(entries: Iterable[AuditEntry], *, zone: tzinfo | None = None,
               width: int = 80) -> Iterator[str]:
    """One line per entry in ``width`` cells, what was searched or shown getting what
    the time, the login and the action leave; the name given is shown only when it
    is not the login."""
    for e in entries:
        who = e.login if e.operator == e.login else _("{login} (as {operator})").format(
            login=e.login, operator=e.operator)
        action = action_name(e.action)
        yield fit(neutralise(f"{desk_time(e.at, zone=zone)}  {who}  {action}  {e.detail}"),
                  max(width, 40)).rstrip()


# --- JSON --------------------------------------------------------------------------


def case_dict(case: Case, *, reveal: bool, earlier: TrackRecord | None = None,
              related: int | None = None, late: timedelta | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ticket": case.ticket,
        "status": case.status,
        "reporter": shown_number(case.reporter, reveal),
        "channel": case.channel,
        "text": case.text,
        "received_at": case.received_at,
        "updated_at": case.updated_at,
        "assigned_to": case.assigned_to,
        "duplicate_of": case.duplicate_of,
        "incomplete": case.incomplete,
        "flags": list(case.flags),
        "first_action_at": case.first_action_at,
        "last_message_at": case.last_message_at,
        "messages": case.messages,
        "category": case.category,
        "place": case.place,
        "urgent": case.urgent,
        "overdue_minutes": int(late.total_seconds() // 60) if late is not None else None,
    }
    if earlier is not None:
        data["earlier"] = {"reports": earlier.earlier, "confirmed": earlier.confirmed,
                           "fake": earlier.fake}
    if related is not None:
        data["related"] = related
    return data


def detail_dict(detail: CaseDetail, *, reveal: bool, late: timedelta | None = None
                ) -> dict[str, Any]:
    data = case_dict(detail.case, reveal=reveal, earlier=detail.earlier, late=late)
    data["related"] = [{"ticket": c.ticket, "status": c.status, "received_at": c.received_at,
                        "category": c.category, "place": c.place, "text": c.text}
                       for c in detail.related]
    data["inbound"] = [
        {"received_at": m.received_at, "sent_at": m.sent_at, "kind": m.kind,
         "sender": shown_number(m.sender, reveal), "text": m.text, "error": m.error,
         "part": [m.concat_seq, m.concat_total] if m.concat_total else None,
         # The raw PDU holds the sender's number in clear.
         **({"pdu": m.pdu} if reveal else {})}
        for m in detail.messages
    ]
    data["history"] = [
        {"at": e.at, "operator": e.operator, "login": e.login, "action": e.action,
         "old_status": e.old_status, "new_status": e.new_status, "note": e.note}
        for e in detail.events
    ]
    data["outbox"] = [
        {"created_at": o.created_at, "created_by": o.created_by, "kind": o.kind,
         "number": shown_number(o.number, reveal), "text": o.text, "state": o.state,
         "attempts": o.attempts, "sent_at": o.sent_at, "delivered_at": o.delivered_at,
         "last_error": o.last_error}
        for o in detail.outbox
    ]
    return data


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def to_json(data: Any, *, indent: int | None = 2) -> str:
    """JSON that is safe on a terminal: json escapes C0 controls itself; C1 controls
    and bidi overrides are escaped here too (``\\u009b`` is a CSI on some terminals)."""
    import json

    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def write_json(cases: Iterable[Case], out: IO[str], *, reveal: bool) -> int:
    """One JSON array, one case per line, streamed (an export may hold a million)."""
    count = 0
    out.write("[")
    for case in cases:
        out.write(("," if count else "") + "\n" + to_json(case_dict(case, reveal=reveal),
                                                          indent=None))
        count += 1
    out.write("\n]\n")
    return count


# --- CSV ---------------------------------------------------------------------------


def csv_row(case: Case, *, reveal: bool) -> list[str]:
    data = case_dict(case, reveal=reveal)
    data["flags"] = ",".join(case.flags)
    data["incomplete"] = "1" if case.incomplete else "0"
    data["text"] = neutralise(case.text, multiline=True)
    data["place"] = neutralise(case.place) if case.place else None
    return [csv_safe(str(data[c]) if data[c] is not None else "") for c in CSV_COLUMNS]


def write_csv(cases: Iterable[Case], out: IO[str], *, reveal: bool, excel: bool = False
              ) -> int:
    """CSV with a header row; ``excel``: for a spreadsheet set up for Indonesia, whose
    list separator is ";" (the decimal one is ",") and which takes a file as UTF-8
    only when it starts with a byte order mark."""
    import csv

    if excel:
        out.write("\ufeff")
    writer = csv.writer(out, delimiter=";" if excel else ",",
                        lineterminator="\r\n" if excel else "\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for case in cases:
        writer.writerow(csv_row(case, reveal=reveal))
        count += 1
    return count


# --- cases show --------------------------------------------------------------------


def detail_text(detail: CaseDetail, *, reveal: bool, width: int | None = None,
                zone: tzinfo | None = None, late: timedelta | None = None) -> Iterator[str]:
    """``cases show``: each line wrapped to ``width`` cells (None: never), a wrapped
    line's rest indented under its start; ``late``: how far past its deadline."""
    for line in _detail_lines(detail, reveal=reveal, zone=zone, late=late):
        yield from _wrap(line, width)


_LABEL = re.compile(r"[A-Z][a-z]+: +")
_STAMPED = re.compile(r" +\d\d [A-Z][a-z]{2}( \d{4})? \d\d:\d\d(:\d\d)? +")


def _wrap(line: str, width: int | None) -> Iterator[str]:
    if width is None or sum(map(_cell_width, line)) <= width:
        yield line
        return
    import textwrap

    label = _LABEL.match(line) or _STAMPED.match(line)
    indent = len(line) - len(line.lstrip(" "))
    hang = " " * (len(label.group(0)) if label else indent)
    yield from textwrap.wrap(line, width=max(width, 40), subsequent_indent=hang,
                             break_on_hyphens=False, drop_whitespace=True) or [""]


# The labels of ``cases show``, their values aligned one column after the longest.
_LABELS = {"ticket": N_("Ticket:"), "status": N_("Status:"), "urgent": N_("Urgent:"),
           "overdue": N_("Overdue:"), "reporter": N_("Reporter:"), "earlier": N_("Earlier:"),
           "received": N_("Received:"), "updated": N_("Updated:"), "assigned": N_("Assigned:"),
           "category": N_("Category:"), "place": N_("Place:"), "flags": N_("Flags:")}


def earlier_text(earlier: TrackRecord) -> str:
    """A reporter's earlier reports, in a few words."""
    if not earlier.earlier:
        return _("no earlier reports")
    return ngettext("{count} earlier: {confirmed} confirmed, {fake} fake",
                    "{count} earlier: {confirmed} confirmed, {fake} fake",
                    earlier.earlier).format(count=earlier.earlier,
                                            confirmed=earlier.confirmed, fake=earlier.fake)


def _detail_lines(detail: CaseDetail, *, reveal: bool, zone: tzinfo | None,
                  late: timedelta | None = None) -> Iterator[str]:
    from smsbridge.cli.history import note_shown
    from smsbridge.cli.words import flag_name
    from smsbridge.tickets import status_name

    def at(iso: str | None) -> str:
        return desk_time(iso, seconds=True, zone=zone)

    labels = {key: _(text) for key, text in _LABELS.items()}
    pad = max(len(text) for text in labels.values()) + 2

    def row(key: str, value: str) -> str:
        return f"{labels[key]:<{pad}}{value}"

    case = detail.case
    yield row("ticket", case.ticket)
    status = status_name(case.status)
    if case.duplicate_of:
        status = _("{status} (of {ticket})").format(status=status, ticket=case.duplicate_of)
    yield row("status", status)
    if case.urgent:
        yield row("urgent", _("yes: a weapon, an explosive or a person in danger"))
    if late is not None:
        from smsbridge.triage.urgent import span_text

        yield row("overdue", _("{span} past the deadline of {status}").format(
            span=span_text(late), status=status_name(case.status)))
    yield row("reporter", _("{number}  (via {channel})").format(
        number=shown_number(case.reporter, reveal), channel=channel_name(case.channel)))
    if detail.earlier is not None:
        yield row("earlier", earlier_text(detail.earlier))
    yield row("received", f"{at(case.received_at)} {zone_name(zone)}")
    yield row("updated", at(case.updated_at))
    yield row("assigned", neutralise(case.assigned_to or "-"))
    yield row("category", category_shown(case.category))
    yield row("place", neutralise(case.place or "-"))
    if case.flags or case.incomplete:
        flags = [flag_name(f) for f in case.flags] + (
            [_("incomplete: parts missing")] if case.incomplete else [])
        yield row("flags", neutralise(", ".join(flags)))
    yield ""
    yield from _indented(case.text)
    if detail.related:
        yield ""
        yield _("Possibly the same incident ({count}):").format(count=len(detail.related))
        for other in detail.related:
            place = f"{neutralise(other.place)} | " if other.place else ""
            shown = status_name(other.status)
            if other.duplicate_of:
                shown = _("{status} of {ticket}").format(status=shown, ticket=other.duplicate_of)
            yield (f"  {other.ticket}  {shown}  {at(other.received_at)}  "
                   f"{place}{neutralise(other.text)}")
    yield ""
    yield _("Messages ({count}):").format(count=len(detail.messages))
    for m in detail.messages:
        kind = message_kind(m.kind)
        if m.concat_total:
            kind = _("{kind} part {part}/{parts}").format(kind=kind, part=m.concat_seq,
                                                         parts=m.concat_total)
        yield "  " + _("{time}  {kind}  from {sender}").format(
            time=at(m.received_at), kind=kind, sender=shown_number(m.sender, reveal) or "?")
        if m.error:
            yield "    " + _("error: {error}").format(error=neutralise(m.error))
        if m.text:
            yield from _indented(m.text, "    ")
    yield ""
    yield _("History ({count}):").format(count=len(detail.events))
    for e in detail.events:
        change = (f" {status_name(e.old_status) if e.old_status else ''} -> "
                  f"{status_name(e.new_status)}" if e.new_status else "")
        note = f": {neutralise(note_shown(e.action, e.note))}" if e.note else ""
        who = neutralise(e.operator if e.login in (None, e.operator)
                         else _("{operator} (login {login})").format(operator=e.operator,
                                                                     login=e.login))
        yield f"  {at(e.at)}  {who}  {action_name(e.action)}{change}{note}"
    yield ""
    yield _("Replies and SMS sent ({count}):").format(count=len(detail.outbox))
    for o in detail.outbox:
        when = {"delivered": o.delivered_at, "sent": o.sent_at}.get(o.state)
        state = sms_state(o.state) + (f" {desk_time(when, zone=zone)}" if when else "")
        if o.last_error and o.state in ("queued", "failed", "gave_up", "cancelled"):
            state += " " + ngettext("({error}, {count} attempt)", "({error}, {count} attempts)",
                                    o.attempts).format(error=neutralise(o.last_error),
                                                       count=o.attempts)
        yield "  " + _("{time}  {kind} by {operator} to {number}: {state}").format(
            time=at(o.created_at), kind=sms_kind(o.kind), operator=neutralise(o.created_by),
            number=shown_number(o.number, reveal), state=state)
        yield from _indented(o.text, "    ")


def _indented(text: str, prefix: str = "  ") -> Iterator[str]:
    for line in neutralise(text, multiline=True).split("\n"):
        yield prefix + line


# --- stats -------------------------------------------------------------------------


def stats_dict(stats: Stats) -> dict[str, Any]:
    return {
        "since": stats.since,
        "until": stats.until,
        "total": stats.total,
        "by_status": stats.by_status,
        "by_day": [{"day": d, "cases": n} for d, n in stats.by_day],
        "fake_share": stats.fake_share,
        "median_first_action_seconds": stats.median_first_action_seconds,
        "top_fake_reporters": [{"reporter": mask_number(r), "fake_cases": n}
                               for r, n in stats.top_fake_reporters],
        "by_category": [{"category": c, "cases": n, "fake": f} for c, n, f in stats.by_category],
        "by_day_status": [{"day": d, **counts} for d, counts in stats.by_day_status],
        "by_hour": list(stats.by_hour),
        "open_now": stats.open_backlog,
        "oldest_unhandled": ({"ticket": stats.oldest_unhandled[0],
                              "received_at": stats.oldest_unhandled[1]}
                             if stats.oldest_unhandled else None),
        "actions_by_operator": [{"operator": o, "actions": n} for o, n in stats.by_operator],
    }


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return _("{seconds:.0f} s").format(seconds=seconds)
    if seconds < 7200:
        return _("{minutes:.0f} min").format(minutes=seconds / 60)
    point = pgettext("decimal separator", ".")  # Indonesian writes 1,5 jam
    if seconds < 172800:
        return _("{hours} h").format(hours=f"{seconds / 3600:.1f}".replace(".", point))
    return _("{days} days").format(days=f"{seconds / 86400:.1f}".replace(".", point))
