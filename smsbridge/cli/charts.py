"""``smsbridge stats`` as pictures: Unicode bars that read in 80 columns without colour.

Each kind of case has its own shade, not its own colour (a terminal may have none, a
printout has none): █ open, ▓ confirmed or resolved, ▒ duplicate, ░ fake. Single bars
end in eighths of a cell (▏…▉), so small differences still show. Terminal charting
libraries tell stacked series apart by colour alone, which is why these few
functions are drawn here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, tzinfo

from smsbridge import tickets
from smsbridge.cli.desk import thousands
from smsbridge.cli.output import category_shown, duration, fit, local_time, zone_name
from smsbridge.i18n import N_, _, pgettext
from smsbridge.models import Stats, to_local
from smsbridge.privacy import mask_number, neutralise

EIGHTHS = " ▏▎▍▌▋▊▉"
FULL = "█"
# Status groups of the day chart, their shade and name, in the order they stack.
GROUPS = (
    ("open", FULL, tickets.OPEN_STATUSES[:2]),  # new, checking
    ("true", "▓", ("confirmed", "resolved")),
    ("duplicate", "▒", ("duplicate",)),
    ("fake", "░", ("fake",)),
)
LEGEND = N_("█ open  ▓ confirmed/resolved  ▒ duplicate  ░ fake")


def _percent(share: float, digits: int = 0) -> str:
    """A share as the desk writes it: "12.5%" in English, "12,5%" in Indonesian."""
    return f"{share:.{digits}%}".replace(".", pgettext("decimal separator", "."))


def bar(value: float, largest: float, width: int) -> str:
    """``value`` as a bar of at most ``width`` cells, to eighths of a cell."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / largest * width * 8))
    return FULL * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")


def stacked(parts: Sequence[tuple[int, str]], largest: int, width: int) -> str:
    """Counts stacked in one bar, each in its shade: the bar's length is to scale and
    each part gets its share of it (largest remainders), a part of one case at least
    one cell, so a single fake report is never rounded away."""
    total = sum(n for n, _x in parts)
    if total <= 0 or largest <= 0:
        return ""
    length = max(1, round(total / largest * width))
    cells = [n * length / total for n, _x in parts]
    sizes = [int(c) for c in cells]
    for i in sorted(range(len(parts)), key=lambda i: cells[i] - sizes[i], reverse=True):
        if sum(sizes) >= length:
            break
        sizes[i] += 1
    for i, (n, _x) in enumerate(parts):
        if n and not sizes[i]:
            biggest = max(range(len(sizes)), key=lambda j: sizes[j])
            if sizes[biggest] > 1:
                sizes[biggest] -= 1
                sizes[i] = 1
    return "".join(symbol * size for (_x, symbol), size in zip(parts, sizes, strict=True))


def columns(values: Sequence[int], *, height: int = 6, width: int = 3) -> list[str]:
    """Values as upright columns ``height`` rows high, ``width`` cells each, tops in
    eighths: for the hours of a day."""
    largest = max(values, default=0)
    rows = []
    for row in range(height, 0, -1):
        line = ""
        for value in values:
            eighths = round(value / largest * height * 8) if largest else 0
            filled = eighths - (row - 1) * 8
            cell = "█" if filled >= 8 else (" ▁▂▃▄▅▆▇"[filled] if filled > 0 else " ")
            line += (cell * (width - 1)) + " "
        rows.append(line.rstrip())
    return rows


def _group(counts: dict[str, int]) -> list[tuple[int, str]]:
    return [(sum(counts.get(s, 0) for s in statuses), symbol)
            for _x, symbol, statuses in GROUPS]


def _days(stats: Stats) -> list[tuple[str, dict[str, int]]]:
    """Every day of the window with cases, the empty ones between them too; by week
    (from each Monday) when there are more than 45 days."""
    if not stats.by_day_status:
        return []
    seen = dict(stats.by_day_status)
    first = date.fromisoformat(stats.by_day_status[0][0])
    last = date.fromisoformat(stats.by_day_status[-1][0])
    span = (last - first).days + 1
    if span <= 45:
        return [(str(day), seen.get(str(day), {}))
                for day in (first + timedelta(days=i) for i in range(span))]
    weeks: dict[str, dict[str, int]] = {}
    for day, counts in stats.by_day_status:
        monday = date.fromisoformat(day)
        monday -= timedelta(days=monday.weekday())
        week = weeks.setdefault(f"w{monday}", {})
        for status, n in counts.items():
            week[status] = week.get(status, 0) + n
    return sorted(weeks.items())


def day_chart(stats: Stats, width: int = 80) -> Iterator[str]:
    """Cases per day, stacked by status, with the day's total and its share of fakes."""
    days = _days(stats)
    if not days:
        return
    label = max(len(d) for d, _x in days)
    room = max(width - label - 2 - 14, 10)
    largest = max(sum(c.values()) for _x, c in days)
    weekly = days[0][0].startswith("w")
    title = _("Cases per week: {legend}") if weekly else _("Cases per day: {legend}")
    yield title.format(legend=_(LEGEND))
    yield (f"{'':{label}}  {'':{room}} {pgettext('column', 'cases'):>7} "
           f"{pgettext('column', 'fake'):>5}")
    for day, counts in days:
        total = sum(counts.values())
        share = _percent(counts.get("fake", 0) / total) if total else "-"
        picture = stacked(_group(counts), largest, room)
        yield f"{day:<{label}}  {picture:<{room}} {thousands(total):>7} {share:>5}"


def hour_chart(stats: Stats, zone: tzinfo | None) -> Iterator[str]:
    yield _("Cases by hour of day, in {zone}:").format(zone=zone_name(zone))
    if not any(stats.by_hour):
        yield "  " + _("(none)")
        return
    for line in columns(stats.by_hour):
        yield "  " + line
    yield "  " + "".join(f"{h:02d}    " if h % 2 == 0 else "" for h in range(24)).rstrip()
    busiest = max(range(24), key=lambda h: stats.by_hour[h])
    yield "  " + _("busiest: {start}-{end}, {count} cases").format(
        start=f"{busiest:02d}:00", end=f"{busiest:02d}:59",
        count=thousands(stats.by_hour[busiest]))


def ranking(title: str, rows: Sequence[tuple[str, int]], *, width: int = 80,
            extra: tuple[str, Sequence[str]] | None = None, unit: str | None = None
            ) -> Iterator[str]:
    """A title, then names with bars to scale; ``extra`` is a named column after each
    count ("fake", its values)."""
    head, values = extra or ("", ())
    unit = pgettext("column", "cases") if unit is None else unit
    label = min(max((len(name) for name, _x in rows), default=4), 16)
    tail = max([len(head), *(len(e) for e in values)]) if extra else 0
    room = max(width - label - 4 - 9 - (tail + 1 if tail else 0), 10)
    yield (f"{title:<{label + 3 + room}}{unit:>8}" + (f" {head:>{tail}}" if tail else "")
           if rows else title)
    if not rows:
        yield "  " + _("(none)")
        return
    largest = max(n for _n, n in rows)
    for i, (name, count) in enumerate(rows):
        after = f" {values[i]:>{tail}}" if tail else ""
        picture = bar(count, largest, room)
        yield f"  {fit(name, label)}  {picture:<{room}} {thousands(count):>8}{after}"


def stats_page(stats: Stats, *, zone: tzinfo | None = None, width: int = 80,
               now: datetime | None = None) -> Iterator[str]:
    """The whole ``stats`` page: figures first, then the pictures."""
    width = max(min(width, 120), 60)
    from smsbridge.tickets import status_name

    since = local_time(stats.since, zone=zone) if stats.since else _("the first case")
    until = local_time(stats.until, zone=zone) if stats.until else _("now")
    yield _("Cases received from {since} to {until}: {count}").format(
        since=since, until=until, count=thousands(stats.total))
    yield _("(times and days in {zone})").format(zone=zone_name(zone))
    share = "-" if stats.fake_share is None else _percent(stats.fake_share, 1)
    yield _("Fake reports: {share}    Median time from report to first action: "
            "{duration}").format(share=share,
                                 duration=duration(stats.median_first_action_seconds))
    backlog = sum(stats.open_backlog.values())
    parts = ", ".join(f"{status_name(s)} {thousands(n)}" for s, n in stats.open_backlog.items())
    yield _("Open now: {count} ({by_status})").format(count=thousands(backlog), by_status=parts)
    if stats.oldest_unhandled:
        ticket, received = stats.oldest_unhandled
        moment = to_local(received, zone)
        waited = ((now or datetime.now(zone)) - moment).total_seconds() if moment else None
        yield _("Oldest unhandled: {ticket}, received {time} ({duration} ago)").format(
            ticket=ticket, time=local_time(received, zone=zone), duration=duration(waited))
    yield ""
    yield from day_chart(stats, width)
    yield ""
    yield from ranking(
        _("By category:"), [(category_shown(c), n) for c, n, _x in stats.by_category],
        width=width, extra=(pgettext("column", "fake"),
                            [_percent(f / n) if n else "-" for _x, n, f in stats.by_category]))
    yield ""
    yield from hour_chart(stats, zone)
    yield ""
    yield from ranking(_("Actions per operator:"),
                       [(neutralise(o), n) for o, n in stats.by_operator], width=width,
                       unit=pgettext("column", "actions"))
    yield ""
    yield from ranking(_("By status:"), [(status_name(s), n) for s, n in stats.by_status.items()],
                       width=width)
    if stats.top_fake_reporters:
        yield ""
        yield from ranking(_("Numbers with the most fake reports:"),
                           [(mask_number(r), n) for r, n in stats.top_fake_reporters],
                           width=width)
