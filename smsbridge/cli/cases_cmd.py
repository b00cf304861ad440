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
    from smsbridge.fieldwork.texts import Notices
    from smsbridge.models import Case
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


def statuses_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--status", "statuses", multiple=True, metavar="S",
        help="Only this status (repeat, or comma-separate: new,checking); open: new, "
             "checking and confirmed; closed: resolved, fake and duplicate.")(fn)


def statuses_typed(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--status`` as typed -> statuses: ``open`` and ``closed`` stand for their groups."""
    from smsbridge.tickets import CLOSED_STATUSES, OPEN_STATUSES, check_status

    groups = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES}
    out: list[str] = []
    for value in (v.strip().lower() for group in values for v in group.split(",")):
        if value:
            named = groups[value] if value in groups else (check_status(value),)
            out += [s for s in named if s not in out]
    return tuple(out)


def category_typed(app: AppContext, text: str) -> str:
    """A category as typed ("Knalpot Brong") -> its name, one the config knows."""
    from smsbridge.errors import InvalidInput
    from smsbridge.triage.rules import Rules, category_name

    known = Rules.from_section(app.config.categories).categories
    name = category_name(text)
    if name not in known:
        raise InvalidInput(f"unknown category {text!r}; categories are: {', '.join(known)}")
    return name


def reporter_typed(app: AppContext, text: str) -> str:
    """A number an operator typed to look up; a masked one (copied from a list) is
    refused with what to do instead: it cannot find anything."""
    from smsbridge.errors import InvalidInput
    from smsbridge.numbers import normalize

    if "*" in text or "…" in text:
        raise InvalidInput(
            f"--reporter {text!r} is a masked number, which finds nothing; type the number "
            "in full, or see whether it reported before in a case's EARLIER column and "
            "`cases show TICKET`")
    return normalize(text, app.config.daemon.country_code)


@cases_group.command("list")
@statuses_option
@click.option("--since", metavar="DATE", help="Received on or after DATE (YYYY-MM-DD or ISO time).")
@click.option("--until", metavar="DATE", help="Received up to DATE (a bare day is included).")
@click.option("--search", metavar="TEXT", help="Cases whose text has every word (word* = prefix).")
@click.option("--reporter", metavar="NUMBER", help="Cases of this number (08… or +62…).")
@click.option("--assigned", metavar="NAME", help="Cases assigned to NAME (any case).")
@click.option("--dispatched", is_flag=True, help="Only cases sent to officers (cases dispatch).")
@click.option("--category", "categories", multiple=True, metavar="NAME",
              help="Only this category (repeat, or comma-separate: judi,miras).")
@click.option("--place", metavar="TEXT",
              help='Cases whose place has every word ("jl slamet" finds "Jalan Slamet").')
@click.option("--min-fake", type=click.IntRange(min=1, max=10**9), metavar="N",
              help="Only cases whose number sent N or more fake reports before.")
@click.option("--limit", type=click.IntRange(min=0, max=10**9), default=50, show_default=True,
              help="At most N cases, newest first (0: all).")
@click.option("--offset", type=click.IntRange(min=0, max=10**9), default=0,
              help="Skip the N newest matches (the list says where the next page starts).")
@click.option("--page", type=click.IntRange(min=1, max=10**9),
              help="Page P of --limit cases each: --page 2 is --offset 50.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row.")
@reveal_option
@as_option
@pass_app
@handle_errors
def cases_list(app: AppContext, statuses: tuple[str, ...], since: str | None,
               until: str | None, search: str | None, reporter: str | None,
               assigned: str | None, categories: tuple[str, ...], place: str | None,
               min_fake: int | None, limit: int, offset: int, page: int | None,
               as_json: bool, as_csv: bool, reveal: bool, as_name: str | None,
               dispatched: bool = False) -> None:
    """List cases, newest first; the table fits an 80-column terminal.

    The text takes the width the other columns leave; below the table, how many
    cases match in all ("50 of 1,284 shown") and the time zone of the times.
    Reporters' numbers are masked unless --reveal. Looking up a number (--reporter)
    and --reveal are recorded in the audit log with your name and login. On a
    database that does not exist yet this fails (exit 1) instead of showing an empty
    list.

    \b
    Examples:
        smsbridge cases list --status open --assigned budi
        smsbridge cases list --category judi --place "pasar gede"
        smsbridge cases list --status new --min-fake 3
        smsbridge cases list --status new --page 2
        smsbridge cases list --search "judi pasar" --since 2024-05-01 --json
    """
    from smsbridge.cli import desk, output
    from smsbridge.errors import InvalidInput
    from smsbridge.models import CaseQuery

    if as_json and as_csv:
        raise InvalidInput("choose one of --json and --csv")
    if page is not None:
        if offset:
            raise InvalidInput("choose one of --offset and --page")
        if not limit:
            raise InvalidInput("--page needs a page size: --limit N (not 0)")
        offset = (page - 1) * limit
    who = operator_name(as_name)
    zone = app.zone
    start, end = output.window(since, until, zone=zone)
    query = CaseQuery(
        statuses=statuses_typed(statuses), since=start, until=end, search=search,
        reporter=reporter_typed(app, reporter) if reporter else None, dispatched=dispatched,
        assigned=assigned.strip() if assigned else None, limit=limit or None, offset=offset,
        categories=tuple(category_typed(app, c) for group in categories
                         for c in group.split(",") if c.strip()),
        place=place, min_fake=min_fake)
    with open_store(app) as store:
        cases = store.cases.lookup(query, operator=who, reveal=reveal)
        # A short page tells the total itself; a full one (or none past --offset) asks.
        full = limit and (len(cases) == limit or (offset and not cases))
        total = store.desk.count(query) if full else offset + len(cases)
        earlier = store.desk.track_records(cases) if not as_csv else {}
        related = store.desk.related_counts(cases)
    if as_json:
        click.echo(output.to_json([output.case_dict(c, reveal=reveal, earlier=earlier.get(c.id),
                                                    related=related.get(c.id, 0))
                                   for c in cases]))
    elif as_csv:
        output.write_csv(cases, sys.stdout, reveal=reveal)
    else:
        width = shutil.get_terminal_size((80, 24)).columns
        if cases:
            for line in desk.table(cases, reveal=reveal, width=width, zone=zone,
                                     earlier=earlier, related=related):
                click.echo(line)
            click.echo(f"{desk.shown_count(len(cases), total, offset)}; times in "
                       f"{output.zone_name(zone)}\n{desk.LEGEND}", err=True)
        else:
            click.echo(desk.shown_count(0, total, offset) if not total else
                       f"(none past --offset {offset}: {total:,} match)", err=True)


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

    Long lines are wrapped to the terminal's width. TICKET may be typed in any case,
    with or without the dash: LP-000042, lp42, 42.

    \b
    Examples:
        smsbridge cases show LP-000042
        smsbridge cases show lp42 --reveal --as budi
    """
    from smsbridge.cli import field_output, output

    who = operator_name(as_name)
    with open_store(app) as store:
        if reveal:
            store.cases.record_reveal(ticket, operator=who)
        detail = store.desk.annotate(store.cases.detail(ticket))
        loop = store.field.loop(detail.case.id)
    entries = field_output.timeline(detail, *loop, reveal=reveal)
    if as_json:
        click.echo(output.to_json({**output.detail_dict(detail, reveal=reveal),
                                   "timeline": field_output.timeline_dicts(entries)}))
        return
    width = shutil.get_terminal_size((80, 24)).columns
    for line in output.detail_text(detail, reveal=reveal, width=width, zone=app.zone):
        click.echo(line)
    for line in field_output.timeline_text(entries, width=width, zone=app.zone):
        click.echo(line)


@cases_group.command("update")
@click.argument("ticket")
@click.option("--status", metavar="S",
              help="New status: new, checking, confirmed, resolved, fake, duplicate.")
@click.option("--note", metavar="TEXT", help="A note for the history (needed to reopen).")
@click.option("--assign", metavar="NAME", help='Assign to NAME ("" to unassign).')
@click.option("--duplicate-of", metavar="TICKET", help="Mark as a duplicate of TICKET.")
@click.option("--category", metavar="NAME",
              help="Correct the category (one of [categories] in the config, or other).")
@click.option("--place", metavar="TEXT", help='Correct the place ("" when it names none).')
@as_option
@pass_app
@handle_errors
def cases_update(app: AppContext, ticket: str, status: str | None, note: str | None,
                 assign: str | None, duplicate_of: str | None, category: str | None,
                 place: str | None, as_name: str | None) -> None:
    """Change a case's status, add a note, assign it, mark it a duplicate, or correct
    its category or place (each change is recorded in its history).

    \b
    Workflow: new -> checking -> confirmed -> resolved; new or checking -> fake;
    any open status -> duplicate (--duplicate-of); reopening needs --note.

    \b
    Examples:
        smsbridge cases update LP-000042 --status checking --assign budi
        smsbridge cases update LP-000042 --duplicate-of LP-000040 --as sari
        smsbridge cases update LP-000042 --category miras --place "Pasar Legi"
    """
    with open_store(app, migrate=True) as store:
        case = store.field.update(
            field_notices(app), ticket, operator=operator_name(as_name), status=status, note=note,
            assign=assign, duplicate_of=duplicate_of, place=place, category=category_typed(app,
            category) if category is not None else None)
    assigned = f", assigned to {case.assigned_to}" if case.assigned_to else ""
    click.echo(f"{case.ticket}: {case.status}{assigned}")


@cases_group.command("watch")
@statuses_option
@click.option("--category", "categories", multiple=True, metavar="NAME",
              help="Only this category (repeat, or comma-separate).")
@click.option("--assigned", metavar="NAME", help="Only cases assigned to NAME (any case).")
@click.option("--last", type=click.IntRange(min=0, max=1000), default=10, show_default=True,
              help="Start with the N latest changes.")
@click.option("--bell", is_flag=True, help="Ring the terminal's bell for each new case.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, for scripts.")
@pass_app
@handle_errors
def cases_watch(app: AppContext, statuses: tuple[str, ...], categories: tuple[str, ...],
                assigned: str | None, last: int, bell: bool, as_json: bool) -> None:
    """Show new and changed cases as they happen, one line each, until Ctrl-C.

    NEW is a new case, MORE a further SMS from its reporter, STATUS, NOTE, ASSIGN,
    REPLY, DUPLICATE, CATEGORY and PLACE what an operator did. The daemon (or
    another operator) writes in another process; a change shows within a second.
    Filters apply to each case as it is now.

    \b
    Examples:
        smsbridge cases watch
        smsbridge cases watch --status open --category tawuran,judi --bell
    """
    from smsbridge.cli.watch import watch
    from smsbridge.models import CaseQuery

    query = CaseQuery(
        statuses=statuses_typed(statuses), assigned=assigned.strip() if assigned else None,
        categories=tuple(category_typed(app, c) for group in categories
                         for c in group.split(",") if c.strip()))
    width = shutil.get_terminal_size((80, 24)).columns
    with open_store(app) as store:
        if not as_json:
            from smsbridge.cli.output import zone_name

            click.echo(f"Watching {store.path}: new and changed cases as they happen; times "
                       f"in {zone_name(app.zone)}; Ctrl-C to stop", err=True)
        try:
            watch(store, query, show=click.echo, bell=bell, as_json=as_json, zone=app.zone,
                  width=width, last=last)
        except KeyboardInterrupt:
            click.echo("stopped", err=True)


@cases_group.command("merge")
@click.argument("original")
@click.argument("others", nargs=-1)
@click.option("--note", metavar="TEXT", help="A note for each case's history.")
@as_option
@pass_app
@handle_errors
def cases_merge(app: AppContext, original: str, others: tuple[str, ...], note: str | None,
                as_name: str | None) -> None:
    """Mark a group of reports duplicates of one case: one incident, one line.

    With only ORIGINAL, every open case linked to it as possibly the same incident
    (`cases show ORIGINAL` lists them); or name the OTHERS. All or none: a closed
    case, or one that would make a cycle of duplicates, refuses the whole group.

    \b
    Examples:
        smsbridge cases merge LP-000042
        smsbridge cases merge LP-000042 LP-000045 LP-000051 --note "tawuran yang sama"
    """
    with open_store(app, migrate=True) as store:
        merged = store.desk.merge(original, others, operator=operator_name(as_name), note=note)
    click.echo(f"{len(merged)} marked duplicate of {merged[0].duplicate_of}: "
               + ", ".join(c.ticket for c in merged))


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
    from smsbridge.cli.filing import add_case
    from smsbridge.errors import InvalidInput
    from smsbridge.models import NewCase
    from smsbridge.numbers import parse_operator_number

    number = parse_operator_number(reporter, app.config.daemon.country_code,
                                   what="--reporter")
    body = " ".join(text).strip()
    if not body:
        raise InvalidInput("the report text is empty")
    add_case(app, NewCase(reporter=number, text=body, channel=channel),
             operator=operator_name(as_name))


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


# --- the field loop (docs/officers.md) ---------------------------------------------


def field_notices(app: AppContext) -> Notices:
    """The reporters' notices the config turns on, for a case's status change."""
    from smsbridge.fieldwork.texts import Notices

    return Notices.from_config(app.config)


@cases_group.command("dispatch")
@click.argument("ticket")
@click.option("--to", "to", required=True, metavar="NAME|TEAM",
              help="An officer's name, or a team's: each of its officers gets the SMS.")
@click.option("--note", metavar="TEXT", help="A line for the officer (at most 100 characters).")
@as_option
@pass_app
@handle_errors
def cases_dispatch(app: AppContext, ticket: str, to: str, note: str | None,
                   as_name: str | None) -> None:
    """Send a case to an officer (or a team) by SMS, to check on the spot.

    The SMS holds the ticket, category, place, the report's words (shortened so the
    whole fits two SMS) and the note, never the reporter's number or name: anything
    shaped like a phone number is removed from all of it. The case is assigned to them
    and, when new, moves to checking. The officer answers by SMS (docs/officers.md);
    `cases show` follows the SMS, the answer and the reporter's notice.

    \b
    Examples:
        smsbridge cases dispatch LP-000042 --to budi
        smsbridge cases dispatch LP-000042 --to buser-1 --note "pelaku 10 orang, hati-hati"
    """
    from smsbridge.cli import field_output
    from smsbridge.fieldwork.answers import Roster
    from smsbridge.fieldwork.texts import FieldTexts

    officers, team = Roster.from_config(app.config).resolve(to)
    texts = FieldTexts.from_config(app.config)
    sent: list[str] = []

    def compose(case: Case) -> str:
        sent.append(texts.for_case(case, note))
        return sent[-1]

    with open_store(app, migrate=True) as store:
        case, records = store.field.dispatch(ticket, officers, compose=compose, team=team,
                                             note=note, operator=operator_name(as_name))
    for line in field_output.dispatched_text(case, records, sent[-1]):
        click.echo(line)


@cases_group.command("answers")
@click.option("--refused", is_flag=True, help="Only the answers that changed nothing.")
@click.option("--limit", type=click.IntRange(min=1, max=10**6), default=50, show_default=True,
              help="At most N answers, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@pass_app
@handle_errors
def cases_answers(app: AppContext, refused: bool, limit: int, as_json: bool) -> None:
    """Officers' SMS answers, newest first: accepted, or refused and why.

    A refused answer (a wrong or missing verification word, a number that is not the
    officer's, an unknown ticket, a case not sent to them) changed nothing, and its
    sender got the same neutral reply whatever was wrong. Many refused answers from
    one number may be someone trying words: call the officer.

    \b
    Examples:
        smsbridge cases answers --refused
        smsbridge cases answers --limit 10 --json
    """
    from smsbridge.cli import field_output, output

    with open_store(app) as store:
        answers = store.field.recent_answers(refused_only=refused, limit=limit)
    if as_json:
        click.echo(output.to_json([field_output.answer_dict(a) for a in answers]))
        return
    for line in field_output.answers_text(answers, zone=app.zone):
        click.echo(line)
    if not answers:
        click.echo("(no answers from officers yet)", err=True)



@cases_group.command("retriage")
@click.option("--since", metavar="DATE", help="Only cases received on or after DATE.")
@click.option("--redo", is_flag=True,
              help="Also decide again cases already filed by triage (never one whose "
                   "category or place an operator set).")
@click.option("--batch", type=click.IntRange(1, 100_000), default=2000, show_default=True,
              help="Cases per transaction.")
@as_option
@pass_app
@handle_errors
def cases_retriage(app: AppContext, since: str | None, redo: bool, batch: int,
                   as_name: str | None) -> None:
    """Give a category and a place to cases from before triage, as intake does; in
    short transactions, resumable, each change a line in the case's history.

    \b
    Examples:
        smsbridge cases retriage
        smsbridge cases retriage --since 2026-01-01 --redo
    """
    from smsbridge.cli.filing import retriage

    retriage(app, since=since, redo=redo, batch=batch, operator=operator_name(as_name))
