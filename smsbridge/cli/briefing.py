"""``smsbridge report --html``: the morning briefing as one self-contained HTML page.

The charts are pygal's SVG, inlined: its default output links a script from the web
(tooltips), so it is rendered with ``js=[]``, its inline config script is dropped, and
values the tooltips would have shown are printed on the bars where they matter.
Nothing on the page is fetched: no scripts, no fonts, no images by address, so it opens
on a desk with no network and prints as it shows.
Numbers in citizens' texts are masked; every text is escaped and neutralised.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable, Sequence
from datetime import date, timedelta, tzinfo
from typing import Any

from smsbridge.cli.output import category_shown, duration, local_time, zone_name
from smsbridge.models import Briefing, BriefingCase, to_local
from smsbridge.privacy import mask_numbers_in, neutralise

MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
# Categories that get their own colour in the day chart; the rest are summed.
SHOWN_CATEGORIES = 9
# A longer window is drawn by week, as ``stats`` draws it.
WEEKLY_AFTER_DAYS = 45
STATUS_ORDER = ("new", "checking")
STYLE = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:1.5em auto;max-width:62em;color:#222}
h1{font-size:1.5em;margin-bottom:0}h2{font-size:1.15em;margin:1.6em 0 .3em;
border-bottom:1px solid #ccc}.sub{color:#555;margin-top:.2em}
.figures{display:flex;flex-wrap:wrap;gap:.6em 2.5em;margin:1em 0}
.figures div{min-width:9em}.figures b{display:block;font-size:1.6em}
figure{margin:0}svg.pygal-chart{width:100%;height:auto;max-height:24em}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{text-align:left;padding:.15em .5em;border-bottom:1px solid #eee;vertical-align:top}
td.n,th.n{text-align:right}td:first-child{white-space:nowrap}.none{color:#777}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}figure{break-inside:avoid}}
"""


# Ten colours told apart also by people with the commoner colour blindness (Tableau 10):
# pygal's defaults put two near reds side by side in a stacked bar.
COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac")


@functools.cache
def _style() -> Any:
    from pygal.style import Style

    return Style(colors=COLOURS, background="white", plot_background="white",
                 font_family='"DejaVu Sans", Arial, sans-serif')


def day_label(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{d.day:02d} {MONTHS[d.month - 1]}"


def _shown(text: str | None) -> str:
    return html.escape(neutralise(text or ""))


def _report(text: str) -> str:
    """A citizen's text: numbers in it masked, cut to a line or two."""
    text = text if len(text) <= 90 else text[:89] + "…"
    return _shown(mask_numbers_in(text))


def _chart(kind: str, title: str, labels: Sequence[str], series: Iterable[tuple[str, list[Any]]],
           **options: Any) -> str:
    import pygal

    settings: dict[str, Any] = {
        "js": [], "disable_xml_declaration": True, "width": 900, "height": 360,
        "explicit_size": False, "legend_at_bottom": True, "legend_at_bottom_columns": 5,
        "truncate_legend": 30, "x_label_rotation": options.pop("rotate", 0)}
    settings.update(options)
    chart = getattr(pygal, kind)(style=_style(), **settings)
    chart.title = title
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, values)
    # Even with ``js=[]`` pygal writes an inline script holding its config (the labels,
    # citizens' place names among them) for tooltips that are not there: drop it.
    from pygal.etree import etree

    tree = chart.render_tree()
    for parent in tree.iter():
        for child in list(parent):
            if child.tag == "script":
                parent.remove(child)
    svg: str = etree.tostring(tree, encoding="unicode")
    return f"<figure>{svg}</figure>"


def by_week(days: Sequence[tuple[str, dict[str, int]]]) -> list[tuple[str, dict[str, int]]]:
    """Days summed by week (from each Monday, labelled "w" and its date)."""
    weeks: dict[str, dict[str, int]] = {}
    for day, counts in days:
        monday = date.fromisoformat(day)
        monday -= timedelta(days=monday.weekday())
        week = weeks.setdefault(str(monday), {})
        for key, n in counts.items():
            week[key] = week.get(key, 0) + n
    return sorted(weeks.items())


def day_chart(b: Briefing) -> str:
    rows = list(b.by_day_category)
    weekly = len(rows) > WEEKLY_AFTER_DAYS
    if weekly:
        rows = by_week(rows)
    totals: dict[str, int] = {}
    for _, counts in rows:
        for category, n in counts.items():
            totals[category] = totals.get(category, 0) + n
    ranked = sorted(totals, key=lambda c: (-totals[c], c))
    shown, rest = ranked[:SHOWN_CATEGORIES], ranked[SHOWN_CATEGORIES:]
    series = [(category_shown(c), [counts.get(c, 0) or None for _, counts in rows])
              for c in shown]
    if rest:
        series.append(("others", [sum(counts.get(c, 0) for c in rest) or None
                                  for _, counts in rows]))
    labels = [("w " if weekly else "") + day_label(d) for d, _ in rows]
    title = "Cases per week (from Monday) by category" if weekly else \
        "Cases per day by category"
    return _chart("StackedBar", title, labels, series,
                  rotate=45 if len(labels) > 14 else 0,
                  show_minor_x_labels=len(labels) <= 31,
                  x_labels_major_every=max(1, len(labels) // 15))


def fake_chart(b: Briefing) -> str:
    rows = [(d, {"cases": n, "fakes": f}) for d, n, f in b.fakes_by_day]
    weekly = len(rows) > WEEKLY_AFTER_DAYS
    if weekly:
        rows = by_week(rows)
    labels = [("w " if weekly else "") + day_label(d) for d, _ in rows]
    shares = [round(100 * c["fakes"] / c["cases"], 1) if c.get("cases") else None
              for _, c in rows]
    title = f"Share of fake reports per {'week' if weekly else 'day'} (%)"
    return _chart("Line", title, labels, [("fake %", shares)],
                  rotate=45 if len(labels) > 14 else 0, range=(0, 100), fill=True,
                  show_legend=False, show_minor_x_labels=len(labels) <= 31,
                  x_labels_major_every=max(1, len(labels) // 15))


def speed_chart(b: Briefing) -> str:
    labels = [label for label, _ in b.first_action]
    return _chart("Bar", "How soon: report to first action, dispatch to officer's answer",
                  labels, [("report → first action", [n for _, n in b.first_action]),
                           ("dispatch → officer's answer", [n for _, n in b.answer])],
                  print_values=True)


def backlog_chart(b: Briefing) -> str:
    labels = [label for label, _ in b.backlog_by_age]
    statuses = [s for s in STATUS_ORDER if any(c.get(s) for _, c in b.backlog_by_age)] or \
        list(STATUS_ORDER)
    return _chart("StackedBar", "Open cases by age", labels,
                  [(s, [c.get(s, 0) for _, c in b.backlog_by_age]) for s in statuses],
                  print_values=False)


def places_chart(b: Briefing) -> str:
    rows = list(reversed(b.top_places))
    return _chart("HorizontalBar", "Top places", [neutralise(p) for p, _ in rows],
                  [("cases", [n for _, n in rows])], show_legend=False, print_values=True)


def hours_chart(b: Briefing, zone: tzinfo | None) -> str:
    return _chart("Bar", f"Cases by hour of day ({zone_name(zone)})",
                  [f"{h:02d}" for h in range(24)], [("cases", list(b.by_hour))],
                  show_legend=False)


def officers_chart(b: Briefing) -> str:
    names = [neutralise(o) for o, _, _ in b.officers]
    return _chart("Bar", "Officers: cases dispatched and answered", names,
                  [("dispatched", [d for _, d, _ in b.officers]),
                   ("answered", [a for _, _, a in b.officers])], print_values=True,
                  rotate=30 if len(names) > 6 else 0)


def case_table(cases: Sequence[BriefingCase], zone: tzinfo | None, *, since: str) -> str:
    if not cases:
        return '<p class="none">None.</p>'
    head = ("<tr><th>ticket</th><th>status</th><th>category</th><th>place</th>"
            f"<th>{since}</th><th>assigned</th><th>report</th></tr>")
    rows = []
    for c in cases:
        when = c.received_at if since == "received" or c.status == "new" else c.updated_at
        rows.append(
            f"<tr><td>{_shown(c.ticket)}</td><td>{_shown(c.status)}</td>"
            f"<td>{_shown(category_shown(c.category))}</td><td>{_shown(c.place or '-')}</td>"
            f"<td>{html.escape(local_time(when, zone=zone))}</td>"
            f"<td>{_shown(c.assigned_to or '-')}</td><td>{_report(c.text)}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def page(b: Briefing, *, zone: tzinfo | None = None, title: str = "Morning briefing") -> str:
    """The whole page, as text."""
    since = local_time(b.since, zone=zone) if b.since else "the first case"
    until = local_time(b.until, zone=zone) if b.until else local_time(b.now, zone=zone)
    moment = to_local(b.now, zone)
    made = f"{moment:%Y-%m-%d %H:%M}" if moment else b.now
    fakes = sum(f for _, _, f in b.fakes_by_day)
    share = f"{fakes / b.total:.0%}" if b.total else "-"
    backlog = sum(sum(c.values()) for _, c in b.backlog_by_age)
    figures = (
        ("cases received", f"{b.total:,}"), ("fake reports", share),
        ("median to first action", duration(b.median_first_action_seconds)),
        ("dispatched / answered", f"{b.dispatched:,} / {b.answered:,}"),
        ("median to officer's answer", duration(b.median_answer_seconds)),
        ("open now", f"{backlog:,}"), ("overdue", f"{b.overdue_count:,}"),
        ("urgent", f"{b.urgent_count:,}"),
    )
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)} {html.escape(made)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="sub">Cases received from {html.escape(since)} to {html.escape(until)}; '
        f"made {html.escape(made)}, times in {html.escape(zone_name(zone))}. "
        "Reporters' numbers are masked.</p>",
        '<div class="figures">' + "".join(
            f"<div><b>{html.escape(v)}</b>{html.escape(k)}</div>" for k, v in figures)
        + "</div>",
        "<h2>Urgent and overdue</h2>",
        f"<p>{b.urgent_count:,} urgent cases open"
        + (f", the {len(b.urgent)} oldest:" if b.urgent else ".") + "</p>",
        case_table(b.urgent, zone, since="received") if b.urgent else "",
        f"<p>{b.overdue_count:,} cases past their deadline"
        + (f", the {len(b.overdue)} longest waiting:" if b.overdue else ".") + "</p>",
        case_table(b.overdue, zone, since="waiting since") if b.overdue else "",
        "<h2>Cases per day</h2>", day_chart(b), fake_chart(b),
        "<h2>Speed</h2>", speed_chart(b),
        "<h2>Open backlog</h2>", backlog_chart(b),
        "<h2>Places and hours</h2>", places_chart(b), hours_chart(b, zone),
        "<h2>Officers</h2>", officers_chart(b),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


CHARTS = 7  # charts on every page: day, fake, speed, backlog, places, hours, officers
