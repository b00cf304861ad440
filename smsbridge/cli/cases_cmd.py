"""``smsbridge cases …``: list, read, update, enter and answer citizens' reports.

Each command: parse options, call one store method, format, map errors (handle_errors).
The store and the formatters are imported inside the commands: ``smsbridge --help``
loads every command module, and needs neither.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from smsbridge.cli import AppContext, handle_errors, main, operator_name, pass_app

if TYPE_CHECKING:
    from smsbridge.store import Store


def open_store(app: AppContext, *, create: bool = False, migrate: bool = False) -> Store:
    """The configured database. Reading never creates one (a wrong path must not look
    like an empty case list) nor changes its schema: only commands that write migrate."""
    from smsbridge.store import Store

    return Store.from_config(app.config, create=create, migrate=migrate or create,
                             clock=app.clock)


def as_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--as", "as_name", metavar="NAME",
        help="Operator name for the case history (default: $SMSBRIDGE_OPERATOR, then the "
             "login name); your login is recorded beside it.")(fn)


def reveal_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--reveal", is_flag=True,
        help="Show reporters' full numbers; recorded in each case's history with your name."
    )(fn)


@main.group("cases")
def cases_group() -> None:
    """List, read, update, add and answer cases.

    \b
    Example:
        smsbridge cases list --status new --limit 20
    """


@cases_group.command("list")
@click.option("--status", "statuses", multiple=True, metavar="S",
              help="Only this status (repeat, or comma-separate: new,checking).")
@click.option("--since", metavar="DATE", help="Received on or after DATE (YYYY-MM-DD or ISO time).")
@click.option("--until", metavar="DATE", help="Received up to DATE (a bare day is included).")
@click.option("--search", metavar="TEXT", help="Cases whose text has every word (word* = prefix).")
@click.option("--reporter", metavar="NUMBER", help="Cases of this number (08… or +62…).")
@click.option("--assigned", metavar="NAME", help="Cases assigned to NAME.")
@click.option("--limit", type=click.IntRange(min=0, max=10**9), default=50, show_default=True,
              help="At most N cases, newest first (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row.")
@reveal_option
@as_option
@pass_app
@handle_errors
def cases_list(app: AppContext, statuses: tuple[str, ...], since: str | None,
               until: str | None, search: str | None, reporter: str | None,
               assigned: str | None, limit: int, as_json: bool, as_csv: bool, reveal: bool,
               as_name: str | None) -> None:
    """List cases, newest first; the table fits an 80-column terminal.

    Reporters' numbers are masked unless --reveal. Looking up a number (--reporter)
    and --reveal are recorded in the audit log with your name and login. On a
    database that does not exist yet this fails (exit 1) instead of showing an empty
    list.

    \b
    Examples:
        smsbridge cases list --status new --status checking
        smsbridge cases list --search "judi pasar" --since 2024-05-01 --json
    """
    from smsbridge.cli import output
    from smsbridge.errors import InvalidInput
    from smsbridge.models import CaseQuery
    from smsbridge.numbers import normalize
    from smsbridge.tickets import check_status

    if as_json and as_csv:
        raise InvalidInput("choose one of --json and --csv")
    who = operator_name(as_name)
    query = CaseQuery(
        statuses=tuple(check_status(s) for group in statuses for s in group.split(",") if s),
        since=output.parse_when(since, option="--since") if since else None,
        until=output.parse_when(until, option="--until", end_of_day=True) if until else None,
        search=search,
        reporter=normalize(reporter, app.config.daemon.country_code) if reporter else None,
        assigned=assigned,
        limit=limit or None,
    )
    with open_store(app) as store:
        cases = store.cases.lookup(query, operator=who, reveal=reveal)
    if as_json:
        click.echo(output.to_json([output.case_dict(c, reveal=reveal) for c in cases]))
    elif as_csv:
        output.write_csv(cases, sys.stdout, reveal=reveal)
    else:
        width = shutil.get_terminal_size((80, 24)).columns
        for line in output.table(cases, reveal=reveal, width=width):
            click.echo(line)
        if not cases:
            click.echo("(no cases match)", err=True)


@cases_group.command("show")
@click.argument("ticket")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@reveal_option
@as_option
@pass_app
@handle_errors
def cases_show(app: AppContext, ticket: str, as_json: bool, reveal: bool,
               as_name: str | None) -> None:
    """Show a case: the report, every message of it, its history and its replies.

    TICKET may be typed in any case, with or without the dash: LP-000042, lp42, 42.

    \b
    Examples:
        smsbridge cases show LP-000042
        smsbridge cases show lp42 --reveal --as budi
    """
    from smsbridge.cli import output

    who = operator_name(as_name)
    with open_store(app) as store:
        if reveal:
            store.cases.record_reveal(ticket, operator=who)
        detail = store.cases.detail(ticket)
    if as_json:
        click.echo(output.to_json(output.detail_dict(detail, reveal=reveal)))
        return
    for line in output.detail_text(detail, reveal=reveal):
        click.echo(line)


@cases_group.command("update")
@click.argument("ticket")
@click.option("--status", metavar="S",
              help="New status: new, checking, confirmed, resolved, fake, duplicate.")
@click.option("--note", metavar="TEXT", help="A note for the history (needed to reopen).")
@click.option("--assign", metavar="NAME", help='Assign to NAME ("" to unassign).')
@click.option("--duplicate-of", metavar="TICKET", help="Mark as a duplicate of TICKET.")
@as_option
@pass_app
@handle_errors
def cases_update(app: AppContext, ticket: str, status: str | None, note: str | None,
                 assign: str | None, duplicate_of: str | None, as_name: str | None) -> None:
    """Change a case's status, add a note, assign it, or mark it a duplicate.

    \b
    Workflow: new -> checking -> confirmed -> resolved; new or checking -> fake;
    any open status -> duplicate (--duplicate-of); reopening needs --note.

    \b
    Examples:
        smsbridge cases update LP-000042 --status checking --assign budi
        smsbridge cases update LP-000042 --duplicate-of LP-000040 --as sari
    """
    with open_store(app, migrate=True) as store:
        case = store.cases.update(ticket, operator=operator_name(as_name), status=status,
                                  note=note, assign=assign, duplicate_of=duplicate_of)
    assigned = f", assigned to {case.assigned_to}" if case.assigned_to else ""
    click.echo(f"{case.ticket}: {case.status}{assigned}")


@cases_group.command("add")
@click.option("--reporter", required=True, metavar="NUMBER",
              help="The reporter's phone number (08… or +62…).")
@click.option("--channel", type=click.Choice(["phone", "whatsapp", "walk-in"]),
              default="phone", show_default=True, help="How the report came in.")
@click.argument("text", nargs=-1, required=True)
@as_option
@pass_app
@handle_errors
def cases_add(app: AppContext, reporter: str, channel: str, text: tuple[str, ...],
              as_name: str | None) -> None:
    """Enter a report taken by phone, chat or in person; prints its new ticket.

    Creates the database if it does not exist yet (its directory must).

    \b
    Example:
        smsbridge cases add --reporter 081234567110 --channel whatsapp "Ada judi di pasar"
    """
    from smsbridge.errors import InvalidInput
    from smsbridge.models import NewCase
    from smsbridge.numbers import parse_operator_number

    number = parse_operator_number(reporter, app.config.daemon.country_code,
                                   what="--reporter")
    body = " ".join(text).strip()
    if not body:
        raise InvalidInput("the report text is empty")
    with open_store(app, create=True) as store:
        case = store.cases.create(NewCase(reporter=number, text=body, channel=channel),
                                  operator=operator_name(as_name))
    click.echo(case.ticket)


@cases_group.command("reply")
@click.argument("ticket")
@click.argument("message", nargs=-1, required=True)
@as_option
@pass_app
@handle_errors
def cases_reply(app: AppContext, ticket: str, message: tuple[str, ...],
                as_name: str | None) -> None:
    """Queue an SMS to the case's reporter; the daemon sends it.

    `cases show` lists it with its delivery state.

    \b
    Example:
        smsbridge cases reply LP-000042 "Petugas sedang menuju lokasi. Terima kasih."
    """
    with open_store(app, migrate=True) as store:
        case = store.cases.get(ticket)
        item = store.outbox.add_reply(
            ticket, " ".join(message), operator=operator_name(as_name),
            short_code_max_digits=app.config.abuse.short_code_max_digits)
    click.echo(f"{case.ticket}: reply queued (outbox #{item.id}); the daemon will send it")
