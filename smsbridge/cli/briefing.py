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

from smsbridge.cli.desk import thousands
from smsbridge.cli.output import category_shown, duration, local_time, zone_name
from smsbridge.i18n import N_, NP_, _, language, ngettext, pgettext
from smsbridge.models import Briefing, BriefingCase, to_local
from smsbridge.privacy import mask_numbers_in, neutralise

# The open backlog's ages and the delays, as store/briefing.py labels them.
_SPANS = {"< 1 h": NP_("span", "< 1 h"), "1-6 h": NP_("span", "1-6 h"),
          "6-24 h": NP_("span", "6-24 h"), "1-3 d": NP_("span", "1-3 d"),
          "3-7 d": NP_("span", "3-7 d"), "> 7 d": NP_("span", "> 7 d"),
          "< 5 min": NP_("span", "< 5 min"), "5-15 min": NP_("span", "5-15 min"),
          "15-60 min": NP_("span", "15-60 min"), "1-4 h": NP_("span", "1-4 h"),
          "4-24 h": NP_("span", "4-24 h"), "> 1 d": NP_("span", "> 1 d")}


def span_label(label: str) -> str:
    return pgettext("span", _SPANS[label]) if label in _SPANS else label
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
    from smsbridge.cli.words import MONTHS

    d = date.fromisoformat(day)
    return f"{d.day:02d} {pgettext('month', MONTHS[d.month - 1])}"


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


def week_label(day: str) -> str:
    """A week on a chart's axis, by its Monday: "w 01 Dec" ("mg 01 Des")."""
    return _("w {day}").format(day=day_label(day))


def day_chart(b: Briefing) -> str:
    rows = list(b.by_day_category)
    weekly = len(rows) > WEEKLY_AFTER_DAYS
    if weekly:
        rows = by_week(rows)
    totals: dict[str, int] = {}
    for _x, counts in rows:
        for category, n in counts.items():
            totals[category] = totals.get(category, 0) + n
    ranked = sorted(totals, key=lambda c: (-totals[c], c))
    shown, rest = ranked[:SHOWN_CATEGORIES], ranked[SHOWN_CATEGORIES:]
    series = [(category_shown(c), [counts.get(c, 0) or None for _x, counts in rows])
              for c in shown]
    if rest:
        series.append((_("others"), [sum(counts.get(c, 0) for c in rest) or None
                                  for _x, counts in rows]))
    labels = [week_label(d) if weekly else day_label(d) for d, _x in rows]
    title = _("Cases per week (from Monday) by category") if weekly else \
        _("Cases per day by category")
    return _chart("StackedBar", title, labels, series,
                  rotate=45 if len(labels) > 14 else 0,
                  show_minor_x_labels=len(labels) <= 31,
                  x_labels_major_every=max(1, len(labels) // 15))


def fake_chart(b: Briefing) -> str:
    rows = [(d, {"cases": n, "fakes": f}) for d, n, f in b.fakes_by_day]
    weekly = len(rows) > WEEKLY_AFTER_DAYS
    if weekly:
        rows = by_week(rows)
    labels = [week_label(d) if weekly else day_label(d) for d, _x in rows]
    shares = [round(100 * c["fakes"] / c["cases"], 1) if c.get("cases") else None
              for _x, c in rows]
    title = (_("Share of fake reports per week (%)") if weekly
             else _("Share of fake reports per day (%)"))
    return _chart("Line", title, labels, [(_("fake %"), shares)],
                  rotate=45 if len(labels) > 14 else 0, range=(0, 100), fill=True,
                  show_legend=False, show_minor_x_labels=len(labels) <= 31,
                  x_labels_major_every=max(1, len(labels) // 15))


def speed_chart(b: Briefing) -> str:
    labels = [span_label(label) for label, _x in b.first_action]
    return _chart("Bar", _("How soon: report to first action, dispatch to officer's answer"),
                  labels, [(_("report → first action"), [n for _x, n in b.first_action]),
                           (_("dispatch → officer's answer"), [n for _x, n in b.answer])],
                  print_values=True)


def backlog_chart(b: Briefing) -> str:
    from smsbridge.tickets import status_name

    labels = [span_label(label) for label, _x in b.backlog_by_age]
    statuses = [s for s in STATUS_ORDER if any(c.get(s) for _x, c in b.backlog_by_age)] or \
        list(STATUS_ORDER)
    return _chart("StackedBar", _("Open cases by age"), labels,
                  [(status_name(s), [c.get(s, 0) for _x, c in b.backlog_by_age]) for s in statuses],
                  print_values=False)


def places_chart(b: Briefing) -> str:
    rows = list(reversed(b.top_places))
    return _chart("HorizontalBar", _("Top places"), [neutralise(p) for p, _x in rows],
                  [(pgettext("column", "cases"), [n for _x, n in rows])], show_legend=False,
                  print_values=True)


def hours_chart(b: Briefing, zone: tzinfo | None) -> str:
    return _chart("Bar", _("Cases by hour of day ({zone})").format(zone=zone_name(zone)),
                  [f"{h:02d}" for h in range(24)],
                  [(pgettext("column", "cases"), list(b.by_hour))],
                  show_legend=False)


def officers_chart(b: Briefing) -> str:
    names = [neutralise(o) for o, _d, _a in b.officers]
    return _chart("Bar", _("Officers: cases dispatched and answered"), names,
                  [(_("dispatched"), [d for _o, d, _a in b.officers]),
                   (_("answered"), [a for _o, _d, a in b.officers])], print_values=True,
                  rotate=30 if len(names) > 6 else 0)


# The tables' columns (the time's column is "received" or "waiting since").
HEADS = (NP_("briefing column", "ticket"), NP_("briefing column", "status"),
         NP_("briefing column", "category"), NP_("briefing column", "place"), "",
         NP_("briefing column", "assigned"), NP_("briefing column", "report"))
SINCE = {"received": NP_("briefing column", "received"),
         "waiting since": NP_("briefing column", "waiting since")}


def case_table(cases: Sequence[BriefingCase], zone: tzinfo | None, *, since: str) -> str:
    from smsbridge.tickets import status_name

    if not cases:
        return '<p class="none">' + html.escape(_("None.")) + "</p>"
    heads = [pgettext("briefing column", h) if h else
             pgettext("briefing column", SINCE.get(since, since)) for h in HEADS]
    head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in heads) + "</tr>"
    rows = []
    for c in cases:
        when = c.received_at if since == "received" or c.status == "new" else c.updated_at
        rows.append(
            f"<tr><td>{_shown(c.ticket)}</td><td>{_shown(status_name(c.status))}</td>"
            f"<td>{_shown(category_shown(c.category))}</td><td>{_shown(c.place or '-')}</td>"
            f"<td>{html.escape(local_time(when, zone=zone))}</td>"
            f"<td>{_shown(c.assigned_to or '-')}</td><td>{_report(c.text)}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


TITLE = N_("Morning briefing")


def page(b: Briefing, *, zone: tzinfo | None = None, title: str | None = None) -> str:
    """The whole page, as text, in the installed language (its <html lang> too)."""
    title = _(TITLE) if title is None else title
    since = local_time(b.since, zone=zone) if b.since else _("the first case")
    until = local_time(b.until, zone=zone) if b.until else local_time(b.now, zone=zone)
    moment = to_local(b.now, zone)
    made = f"{moment:%Y-%m-%d %H:%M}" if moment else b.now
    fakes = sum(f for _d, _n, f in b.fakes_by_day)
    share = f"{fakes / b.total:.0%}" if b.total else "-"
    backlog = sum(sum(c.values()) for _x, c in b.backlog_by_age)
    figures = (
        (_("cases received"), thousands(b.total)), (_("fake reports"), share),
        (_("median to first action"), duration(b.median_first_action_seconds)),
        (_("dispatched / answered"), f"{thousands(b.dispatched)} / {thousands(b.answered)}"),
        (_("median to officer's answer"), duration(b.median_answer_seconds)),
        (_("open now"), thousands(backlog)), (_("overdue"), thousands(b.overdue_count)),
        (_("urgent"), thousands(b.urgent_count)),
    )
    urgent = (ngettext("{count} urgent case open, the {shown} oldest:",
                       "{count} urgent cases open, the {shown} oldest:", b.urgent_count)
              if b.urgent else ngettext("{count} urgent case open.",
                                        "{count} urgent cases open.", b.urgent_count))
    overdue = (ngettext("{count} case past its deadline, the {shown} longest waiting:",
                        "{count} cases past their deadline, the {shown} longest waiting:",
                        b.overdue_count)
               if b.overdue else ngettext("{count} case past its deadline.",
                                          "{count} cases past their deadline.",
                                          b.overdue_count))
    sub = _("Cases received from {since} to {until}; made {made}, times in {zone}. "
            "Reporters' numbers are masked.").format(since=since, until=until, made=made,
                                                     zone=zone_name(zone))

    def h2(text: str) -> str:
        return f"<h2>{html.escape(text)}</h2>"

    parts = [
        "<!DOCTYPE html>", f'<html lang="{language()}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)} {html.escape(made)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="sub">{html.escape(sub)}</p>',
        '<div class="figures">' + "".join(
            f"<div><b>{html.escape(v)}</b>{html.escape(k)}</div>" for k, v in figures)
        + "</div>",
        h2(_("Urgent and overdue")),
        "<p>" + html.escape(urgent.format(count=thousands(b.urgent_count),
                                          shown=len(b.urgent))) + "</p>",
        case_table(b.urgent, zone, since="received") if b.urgent else "",
        "<p>" + html.escape(overdue.format(count=thousands(b.overdue_count),
                                           shown=len(b.overdue))) + "</p>",
        case_table(b.overdue, zone, since="waiting since") if b.overdue else "",
        h2(_("Cases per day")), day_chart(b), fake_chart(b),
        h2(_("Speed")), speed_chart(b),
        h2(_("Open backlog")), backlog_chart(b),
        h2(_("Places and hours")), places_chart(b), hours_chart(b, zone),
        h2(_("Officers")), officers_chart(b),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


CHARTS = 7  # charts on every page: day, fake, speed, backlog, places, hours, officers
