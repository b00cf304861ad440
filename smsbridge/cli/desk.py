"""The desk's list of cases: one line per case in the terminal's width.

The text takes whatever the other columns leave. Beside each case: its category,
its number's track record (EARLIER) and, before its text, its place and how many
other reports are possibly the same incident (``≈N``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from smsbridge import i18n
from smsbridge.cli.output import _rows, category_shown, desk_time, fit, shown_number
from smsbridge.i18n import N_, _, ngettext, pgettext
from smsbridge.models import Case, TrackRecord, to_local
from smsbridge.privacy import neutralise
from smsbridge.tickets import status_name
from smsbridge.triage.urgent import Deadlines, span_text, status_since

if TYPE_CHECKING:
    from smsbridge.store.desk import Page


def table(cases: Sequence[Case], *, reveal: bool, width: int = 80,
          zone: tzinfo | None = None, earlier: Mapping[int, TrackRecord] | None = None,
          related: Mapping[int, int] | None = None,
          late: Mapping[int, timedelta] | None = None) -> Iterator[str]:
    """One line per case, at most ``width`` cells (80 fits any terminal) unless a
    revealed number needs more; the text takes whatever the other columns leave.

    EARLIER is the number's track record (``earlier_mark``); ``≈N`` before a text says
    N other open reports are possibly the same incident; ``!!`` marks an urgent case,
    ``late 2h`` one two hours past its status's deadline (``late``).
    """
    now = datetime.now(zone)
    moments = [to_local(c.received_at, zone) or now for c in cases]
    today = all(m.date() == now.date() for m in moments)  # a desk's day: the head says
    this_year = all(m.year == now.year for m in moments)
    size = 5 if today else 12 if this_year else 17
    # The number takes 15 columns the text needs more at 80: it shows on a wide
    # terminal, or when revealed (then it is what the operator asked to see).
    number = reveal or width >= 120
    rows, texts = [], []
    for case, moment in zip(cases, moments, strict=True):
        marks = ("[" + ",".join(case.flags) + "] ") if case.flags else ""
        if case.assigned_to:
            marks = f"@{case.assigned_to} " + marks
        if related and related.get(case.id):
            marks = f"≈{related[case.id]} " + marks
        if late and case.id in late:
            marks = _("late {span}").format(span=span_text(late[case.id])) + " " + marks
        if case.urgent:
            marks = "!! " + marks
        place = case.place or ""
        record = earlier.get(case.id) if earlier is not None else None
        rows.append((case.ticket, status_name(case.status), f"{moment:%H:%M}" if today else
                     desk_time(case.received_at, zone=zone, year=not this_year),
                     category_shown(case.category),
                     earlier_mark(record) if earlier is not None else "",
                     *((shown_number(case.reporter, reveal),) if number else ())))
        texts.append((marks, place, case.text))
    heads: tuple[str, ...] = (
        pgettext("column", "TICKET"), pgettext("column", "STATUS"),
        pgettext("column", "TODAY") if size == 5 else pgettext("column", "RECEIVED"),
        pgettext("column", "CATEGORY"), pgettext("column", "EARLIER"))
    ticket = max([len(heads[0]), *(len(c.ticket) for c in cases)])
    category = max([len(heads[3]), *(len(r[3]) for r in rows)])
    # A head in the desk's language may be longer than the column it names.
    status = max([9, *(len(r[1]) for r in rows)])  # "terkonfirmasi" is never cut
    sizes: tuple[int, ...] = tuple(max(s, len(h)) for s, h in zip(
        (ticket, status, size, category, 8), heads, strict=True))
    if earlier is None:
        heads, sizes, rows = heads[:4], sizes[:4], [(*r[:4], *r[5:]) for r in rows]
    if number:
        head = pgettext("column", "REPORTER")
        heads, sizes = (*heads, head), (*sizes, max(14, len(head)))
    # A long place must leave the report's own words some room.
    room = max(int((max(width, 60) - sum(sizes) - len(sizes)) * 0.45), 12)
    joined = [m + (fit(neutralise(p), room).rstrip() + " | " if p else "") + t
              for m, p, t in texts]
    yield from _rows(heads, sizes, rows, joined, max(width, 60))


def list_text(page: Page, *, as_json: bool, reveal: bool, late: Mapping[int, timedelta],
              zone: tzinfo | None, width: int) -> tuple[list[str], str]:
    """``cases list`` as JSON or as a table: its lines, and the note for stderr (how
    many match, the zone, the legend)."""
    from smsbridge.cli.output import case_dict, to_json, zone_name

    cases, total, offset = page.cases, page.total, page.query.offset
    if as_json:
        return [to_json([case_dict(c, reveal=reveal, earlier=page.earlier.get(c.id),
                                   related=page.related.get(c.id, 0), late=late.get(c.id))
                         for c in cases])], ""
    if not cases:
        return [], (shown_count(0, total, offset) if not total else
                    ngettext("(none past --offset {offset}: {total} match)",
                             "(none past --offset {offset}: {total} match)", total).format(
                                 offset=offset, total=thousands(total)))
    order = _("oldest first") if page.query.sort == "oldest" else _("newest first")
    return (list(table(cases, reveal=reveal, width=width, zone=zone, earlier=page.earlier,
                       related=page.related, late=late)),
            _("{count}; times in {zone}").format(
                count=shown_count(len(cases), total, offset, order, capped=page.capped),
                zone=zone_name(zone))
            + "\n" + _(LEGEND))


def lateness(cases: Iterable[Case], deadlines: Deadlines, now: datetime
             ) -> dict[int, timedelta]:
    """How far each overdue case is past its status's deadline (``[desk] deadlines``)."""
    out: dict[int, timedelta] = {}
    for case in cases:
        since = status_since(case.status, case.received_at, case.updated_at)
        late = deadlines.late_by(case.status, datetime.fromisoformat(since), now)
        if late is not None:
            out[case.id] = late
    return out


def earlier_mark(record: TrackRecord | None) -> str:
    """A number's track record in a table cell: "4 1✓ 2✗" is 4 earlier reports, 1
    confirmed, 2 fake; "-" for no number."""
    if record is None:
        return "-"
    parts = [str(record.earlier)]
    if record.confirmed:
        parts.append(f"{record.confirmed}✓")
    if record.fake:
        parts.append(f"{record.fake}✗")
    return " ".join(parts)


LEGEND = N_("EARLIER: the number's reports before this one, ✓ confirmed, ✗ fake\n"
            "!! urgent; late 2h: two hours past its status's deadline ([desk] deadlines)")


def thousands(n: int) -> str:
    """A count as the desk writes it: "1,284" in English, "1.284" in Indonesian."""
    text = f"{n:,}"
    return text.replace(",", ".") if i18n.language() == "id" else text


def shown_count(shown: int, total: int, offset: int, order: str | None = None, *,
                capped: bool = False) -> str:
    """"50 of 1,284 shown", and how to see the next ones; ``capped``: "of 10,000+"."""
    if total == 0:
        return _("(no cases match)")
    if shown == total:
        return ngettext("{count} case", "{count} cases", total).format(count=thousands(total))
    order = order or _("newest first")
    first, last = offset + 1, offset + shown
    where = f"{thousands(first)}-{thousands(last)}" if offset else thousands(shown)
    if last < total:
        return ngettext("{shown} of {total} shown, {order}; more with --offset {next}",
                        "{shown} of {total} shown, {order}; more with --offset {next}",
                        total).format(shown=where,
                                      total=thousands(total) + ("+" if capped else ""),
                                      order=order, next=last)
    return ngettext("{shown} of {total} shown, {order}", "{shown} of {total} shown, {order}",
                    total).format(shown=where, total=thousands(total), order=order)


_TICKETISH = re.compile(r"[A-Za-z]*-?\d+")


def tickets_from(args: Sequence[str], stdin: str | None = None) -> list[str]:
    """The tickets a bulk command was given, in order, each once; ``-`` stands for the
    ones on standard input (``stdin``, else read from sys.stdin): a ``cases list
    --json`` array, or lines whose first word is a ticket (a ``cases list`` table, one
    ticket a line, or several on one line)."""
    if stdin is None and "-" in args:
        import sys

        stdin = sys.stdin.read()
    out: list[str] = []
    for arg in args:
        out += _read_tickets(stdin or "") if arg == "-" else [arg]
    return list(dict.fromkeys(t.strip() for t in out if t.strip()))


def _read_tickets(text: str) -> list[str]:
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if isinstance(items, list):
            return [str(i["ticket"]) if isinstance(i, dict) and "ticket" in i else str(i)
                    for i in items]
    found: list[str] = []
    for line in text.splitlines():
        words = line.replace(",", " ").split()
        if not words or not _TICKETISH.fullmatch(words[0]):
            continue  # a table's head, a blank line
        found += words if all(_TICKETISH.fullmatch(w) for w in words) else words[:1]
    return found
