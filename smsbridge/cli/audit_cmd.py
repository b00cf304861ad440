"""``smsbridge audit``: who looked up reporters by number or revealed their numbers."""

from __future__ import annotations

import click

from smsbridge.cli import AppContext, handle_errors, main, pass_app
from smsbridge.i18n import _


@main.command("audit")
@click.option("--since", metavar="DATE", help="From DATE (YYYY-MM-DD or ISO time).")
@click.option("--until", metavar="DATE", help="Up to DATE (a bare day is included).")
@click.option("--limit", type=click.IntRange(min=0, max=10**9), default=100, show_default=True,
              help="At most N entries, newest first (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@pass_app
@handle_errors
def audit_command(app: AppContext, since: str | None, until: str | None, limit: int,
                  as_json: bool) -> None:
    """For administrators: every lookup by a reporter's number and every reveal of one.

    Each entry has the time, the login that ran the command, the name it gave (--as)
    when different, and what was searched or shown, numbers masked. Lookups that found
    nothing are there too.

    \b
    Examples:
        smsbridge audit --since 2024-05-01
        smsbridge audit --json --limit 0 > audit.json
    """
    import shutil

    from smsbridge.cli import output, when
    from smsbridge.cli.case_options import open_store

    start, end = when.window(since, until, zone=app.zone)
    with open_store(app) as store:
        entries = store.audit.entries(since=start, until=end, limit=limit or None)
    if as_json:
        click.echo(output.to_json([output.audit_dict(e) for e in entries]))
        return
    width = shutil.get_terminal_size((80, 24)).columns
    for line in output.audit_text(entries, zone=app.zone, width=width):
        click.echo(line)
    click.echo(output.times_in(app.zone) if entries else _("(no entries)"), err=True)
