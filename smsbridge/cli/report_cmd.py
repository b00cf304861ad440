"""``smsbridge stats``, ``report`` and ``export``: the line's figures, the morning
briefing and its data."""

from __future__ import annotations

from datetime import timedelta

import click

from smsbridge.cli import AppContext, handle_errors, main, pass_app
from smsbridge.i18n import _, ngettext

DEFAULT_STATS_DAYS = 30


@main.command("stats")
@click.option("--since", metavar="DATE",
              help=f"From DATE (YYYY-MM-DD or ISO time; default: {DEFAULT_STATS_DAYS} days ago).")
@click.option("--until", metavar="DATE", help="Up to DATE (a bare day is included).")
@click.option("--all", "all_time", is_flag=True, help="Every case ever received.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@handle_errors
def stats(app: AppContext, since: str | None, until: str | None, all_time: bool,
          as_json: bool) -> None:
    """The line's figures, with pictures: cases per day by status and the share of
    fakes, the open backlog and the oldest case nobody has acted on, cases by
    category and by hour of day, actions per operator, the median time to a first
    action and the numbers with the most fake reports (masked).

    \b
    Examples:
        smsbridge stats
        smsbridge stats --since 2024-01-01 --json
    """
    from smsbridge.cli import field_output, output
    from smsbridge.cli.case_options import open_store
    from smsbridge.cli.daemon_cmd import desk_pressure, pressure_line
    from smsbridge.errors import InvalidInput

    if all_time and since:
        raise InvalidInput(_("choose one of --since and --all"))
    zone = app.zone
    start, end = output.window(
        since, until, zone=zone,
        default_since=None if all_time else output.days_ago(DEFAULT_STATS_DAYS, zone))
    offset = app.clock.now().astimezone(zone).utcoffset()
    with open_store(app) as store:
        result = store.cases.stats(
            since=start, until=end,
            utc_offset_seconds=int(offset.total_seconds()) if offset else 0,
            daemon=app.config.daemon.operator_name)
        field = store.field.stats(since=start, until=end)
        # As of now, whatever the window: what the desk has to do first.
        pressure = desk_pressure(store, app.config.desk.deadlines, app.clock.now())
    if as_json:
        click.echo(output.to_json({**output.stats_dict(result),
                                   "field": field_output.stats_dict(field),
                                   "pressure": pressure}))
        return
    import shutil

    from smsbridge.cli.charts import stats_page

    width = shutil.get_terminal_size((80, 24)).columns
    for line in stats_page(result, zone=zone, width=width, now=app.clock.now()):
        click.echo(line)
    for line in field_output.stats_text(field):
        click.echo(line)
    click.echo(pressure_line(pressure))


@main.command("report")
@click.option("--html", "html_path", metavar="FILE", required=True,
              type=click.Path(dir_okay=False, readable=False),
              help="Write the briefing to FILE: one HTML page, charts inline, nothing "
                   "fetched when it is opened (mode 0640; never through a symbolic link).")
@click.option("--since", metavar="DATE",
              help=f"From DATE (YYYY-MM-DD or ISO time; default: {DEFAULT_STATS_DAYS} days ago).")
@click.option("--until", metavar="DATE", help="Up to DATE (a bare day is included).")
@pass_app
@handle_errors
def report(app: AppContext, html_path: str, since: str | None, until: str | None) -> None:
    """The morning briefing as one page to open in any browser, offline: cases per day
    by category, the share of fakes, how soon cases were acted on and answered by
    officers, the open backlog by age, urgent and overdue cases, top places, busiest
    hours, and each officer's dispatches and answers. Numbers are masked.

    \b
    Examples:
        smsbridge report --html pagi.html
        smsbridge report --html minggu.html --since 2026-12-01 --until 2026-12-07
    """
    from smsbridge.cli import output

    try:
        import pygal  # noqa: F401
    except ImportError:
        raise click.ClickException(
            _("the briefing's charts need pygal: pip install 'smsbridge[report]'")) from None
    from smsbridge.cli.briefing import page
    from smsbridge.cli.cases_cmd import open_store
    from smsbridge.cli.outfile import private_file, shown
    from smsbridge.store.briefing import briefing
    from smsbridge.triage.urgent import Deadlines

    zone = app.zone
    start, end = output.window(since, until, zone=zone,
                               default_since=output.days_ago(DEFAULT_STATS_DAYS, zone))
    now = app.clock.now()
    offset = now.astimezone(zone).utcoffset()
    limits = Deadlines.parse(app.config.desk.deadlines).minutes
    with open_store(app) as store:
        figures = briefing(store.db, now=now, since=start, until=end,
                           utc_offset_seconds=int(offset.total_seconds()) if offset else 0,
                           deadlines={s: timedelta(minutes=m) for s, m in limits.items() if m})
    text = page(figures, zone=zone)
    with private_file(html_path) as out:
        out.write(text)
    from smsbridge.cli.desk import thousands

    click.echo(ngettext("briefing of {count} case written to {file}",
                        "briefing of {count} cases written to {file}", figures.total).format(
                            count=thousands(figures.total), file=shown(html_path)), err=True)


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help="Output format.")
@click.option("--since", metavar="DATE", help="Cases received on or after DATE.")
@click.option("--until", metavar="DATE", help="Cases received up to DATE (a bare day is included).")
@click.option("-o", "--output", "out_path", metavar="FILE", type=click.Path(readable=False),
              help="Write to FILE (mode 0640, complete or not at all; never through a "
                   "symbolic link) instead of standard output.")
@click.option("--excel", is_flag=True, help="CSV for a spreadsheet: ';' and a BOM.")
@pass_app
@handle_errors
def export(app: AppContext, fmt: str, since: str | None, until: str | None,
           out_path: str | None, excel: bool) -> None:
    """Export cases, oldest first, reporters' numbers masked.

    CSV cells cannot run as spreadsheet formulas and control characters are
    neutralised; JSON keeps the texts as received.

    \b
    Examples:
        smsbridge export --since 2024-05-01 > mei.csv
        smsbridge export --format json -o cases.json
        smsbridge export --excel -o november.csv
    """
    import sys
    from contextlib import nullcontext

    from smsbridge.cli import output
    from smsbridge.cli.case_options import open_store
    from smsbridge.cli.outfile import private_file, shown
    from smsbridge.errors import InvalidInput

    start, end = output.window(since, until, zone=app.zone)
    with open_store(app) as store:
        cases = store.cases.stream(since=start, until=end)
        with private_file(out_path) if out_path else nullcontext(sys.stdout) as out:
            if fmt == "csv":
                count = output.write_csv(cases, out, reveal=False, excel=excel)
            elif excel:
                raise InvalidInput(_("--excel is a CSV for spreadsheets; leave out --format json"))
            else:
                count = output.write_json(cases, out, reveal=False)
    if out_path:
        click.echo(ngettext("{count} case written to {file}", "{count} cases written to {file}",
                            count).format(count=count, file=shown(out_path)), err=True)

