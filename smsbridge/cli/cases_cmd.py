"""``smsbridge cases …``: list, read, update, enter and answer citizens' reports.

Each command: parse options, call one store method, format, map errors (handle_errors).
The store and the formatters are imported inside the commands: ``smsbridge --help``
loads every command module, and needs neither.
"""

from __future__ import annotations

import shutil
import sys

import click

from smsbridge.cli import AppContext, field_cmd, handle_errors, main, operator_name, pass_app
from smsbridge.cli.case_options import (
    as_option,
    category_typed,
    field_notices,
    open_store,
    reporter_typed,
    reveal_option,
    statuses_option,
    statuses_typed,
)
from smsbridge.errors import InvalidInput
from smsbridge.i18n import _, ngettext


@main.group("cases")
def cases_group() -> None:
    """List, read, update, add and answer cases.

    \b
    Example:
        smsbridge cases list --status new --limit 20
    """


cases_group.add_command(field_cmd.cases_dispatch)
cases_group.add_command(field_cmd.cases_answers)


@cases_group.command("list")
@statuses_option
@click.option("--since", metavar="DATE",
              help="Received on or after DATE: YYYY-MM-DD, ISO time, today, yesterday "
                   "(hari-ini, kemarin), or 7d, 24h ago.")
@click.option("--until", metavar="DATE", help="Received up to DATE (a bare day is included).")
@click.option("--search", metavar="TEXT", help="Cases whose text has every word (word* = prefix).")
@click.option("--reporter", metavar="NUMBER", help="Cases of this number (08… or +62…).")
@click.option("--assigned", metavar="NAME",
              help="Cases assigned to NAME (any case); none: cases nobody is assigned to.")
@click.option("--sort", type=click.Choice(["urgent", "newest", "oldest"]), default="urgent",
              help="urgent (the default): open urgent cases, then the newest.")
@click.option("--dispatched", is_flag=True, help="Only cases sent to officers (cases dispatch).")
@click.option("--urgent", is_flag=True, help="Only urgent cases ([desk] urgent words).")
@click.option("--overdue", is_flag=True, help="Only cases past their [desk] deadlines.")
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
@click.option("--excel", is_flag=True, help="CSV for a spreadsheet: ';' and a BOM.")
@reveal_option
@as_option
@pass_app
@handle_errors
def cases_list(app: AppContext, statuses: tuple[str, ...], since: str | None,
               until: str | None, search: str | None, reporter: str | None,
               assigned: str | None, categories: tuple[str, ...], place: str | None,
               min_fake: int | None, limit: int, offset: int, page: int | None,
               as_json: bool, as_csv: bool, reveal: bool, as_name: str | None,
               dispatched: bool = False, sort: str = "urgent", urgent: bool = False,
               overdue: bool = False, excel: bool = False) -> None:
    """List cases, open urgent ones first, then newest; the table fits 80 columns.

    The text takes the width the other columns leave; below the table, how many cases
    match in all ("50 of 1,284 shown") and the time zone of the times. Numbers are
    masked unless --reveal. Looking up a number (--reporter) and --reveal are
    recorded in the audit log with your name and login. A database that does not
    exist yet is an error (exit 1), not an empty list.

    \b
    Examples:
        smsbridge cases list --status open --assigned budi
        smsbridge cases list --category judi --place "pasar gede"
        smsbridge cases list --status new --min-fake 3
        smsbridge cases list --status new --page 2
        smsbridge cases list --status open --assigned none --sort oldest
        smsbridge cases list --overdue --since kemarin --sort oldest
        smsbridge cases list --since 7d --excel > minggu.csv
        smsbridge cases list --search "judi pasar" --since 2024-05-01 --json
    """
    import dataclasses

    from smsbridge.cli import desk, output, when
    from smsbridge.cli import reveal as revealing
    from smsbridge.models import CaseQuery, to_iso

    as_csv = as_csv or excel
    if as_json and as_csv:
        raise InvalidInput(_("choose one of {first} and {second}").format(
            first="--json", second="--csv"))
    if page is not None:
        if offset:
            raise InvalidInput(_("choose one of {first} and {second}").format(
                first="--offset", second="--page"))
        if not limit:
            raise InvalidInput(_("--page needs a page size: --limit N (not 0)"))
        offset = (page - 1) * limit
    who = operator_name(as_name)
    zone = app.zone
    start, end = when.window(since, until, zone=zone)
    nobody = assigned is not None and assigned.strip().lower() in ("none", "-", "")
    deadlines, now = app.deadlines, app.clock.now()
    cutoffs = tuple((s, to_iso(t)) for s, t in deadlines.cutoffs(now).items())
    query = CaseQuery(
        statuses=statuses_typed(statuses), since=start, until=end, search=search,
        reporter=reporter_typed(app, reporter) if reporter else None, dispatched=dispatched,
        assigned=assigned.strip() if assigned and not nobody else None, unassigned=nobody,
        sort=sort, limit=limit or None, offset=offset, urgent=urgent,
        overdue=cutoffs if overdue else None,
        categories=tuple(category_typed(app, c) for group in categories
                         for c in group.split(",") if c.strip()),
        place=place, min_fake=min_fake)
    with open_store(app, operator=who) as store:
        found = store.desk.page(query, operator=who, reveal=revealing.locally(store, reveal),
                                track=not as_csv)
        if reveal:
            found = dataclasses.replace(found, cases=revealing.cases(store, found.cases))
    late = desk.lateness(found.cases, deadlines, now)
    if as_csv:
        output.write_csv(found.cases, sys.stdout, reveal=reveal, excel=excel)
        return
    lines, note = desk.list_text(found, as_json=as_json, reveal=reveal, late=late, zone=zone,
                                 width=shutil.get_terminal_size((80, 24)).columns)
    for line in lines:
        click.echo(line)
    if note:
        click.echo(note, err=True)


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
    from smsbridge.cli import desk, field_output, output
    from smsbridge.cli import reveal as revealing

    who = operator_name(as_name)
    with open_store(app, operator=who) as store:
        if revealing.locally(store, reveal):
            store.cases.record_reveal(ticket, operator=who)
        detail = store.desk.annotate(store.cases.detail(ticket))
        if reveal:
            detail = revealing.detail(store, detail)
        loop = store.field.loop(detail.case.id)
    entries = field_output.timeline(detail, *loop, reveal=reveal)
    late = desk.lateness([detail.case], app.deadlines, app.clock.now()).get(detail.case.id)
    if as_json:
        click.echo(output.to_json({**output.detail_dict(detail, reveal=reveal, late=late),
                                   "timeline": field_output.timeline_dicts(entries)}))
        return
    width = shutil.get_terminal_size((80, 24)).columns
    for line in output.detail_text(detail, reveal=reveal, width=width, zone=app.zone,
                                   late=late):
        click.echo(line)
    for line in field_output.timeline_text(entries, width=width, zone=app.zone):
        click.echo(line)


@cases_group.command("update")
@click.argument("tickets", nargs=-1, required=True)
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
def cases_update(app: AppContext, tickets: tuple[str, ...], status: str | None,
                 note: str | None, assign: str | None, duplicate_of: str | None,
                 category: str | None, place: str | None, as_name: str | None) -> None:
    """Change a case's status, add a note, assign it, mark it a duplicate, or correct
    its category or place (each change is recorded in its history).

    Several TICKETS (or - for those on stdin: `cases list --json` or a table) change
    together, all or none: if one would be refused, none changes and the error names it.

    \b
    Workflow: new -> checking -> confirmed -> resolved; new or checking -> fake;
    any open status -> duplicate (--duplicate-of); reopening needs --note.

    \b
    Examples:
        smsbridge cases update LP-000042 --status checking --assign budi
        smsbridge cases update LP-000042 --duplicate-of LP-000040 --as sari
        smsbridge cases update LP-000042 --category miras --place "Pasar Legi"
        smsbridge cases update LP-000042 LP-000043 LP-000047 --status fake
        smsbridge cases list --search "balap*" --json | smsbridge cases update - --assign budi
    """
    from smsbridge.cli.desk import tickets_from
    from smsbridge.tickets import status_name

    named, notices, who = tickets_from(tickets), field_notices(app), operator_name(as_name)
    typed = None if category is None else category_typed(app, category)
    with open_store(app, migrate=True) as store:
        changed = store.desk.in_bulk(named, lambda ticket: store.change_case(
            ticket, notices=notices, operator=who, status=status, note=note, assign=assign,
            duplicate_of=duplicate_of, place=place, category=typed))
    for case in changed:
        if case.assigned_to:
            click.echo(_("{ticket}: {status}, assigned to {name}").format(
                ticket=case.ticket, status=status_name(case.status), name=case.assigned_to))
        else:
            click.echo(_("{ticket}: {status}").format(ticket=case.ticket,
                                                     status=status_name(case.status)))


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
    REPLY, DUPLICATE, CATEGORY and PLACE what an operator did; "NEW !!" or URGENT an
    urgent report ([desk] urgent), which rings the bell even without --bell; LATE a
    case just past its status's deadline ([desk] deadlines); ANSWER an officer's SMS
    answer, REFUSED one that changed nothing (shown whatever the filters). A change
    shows within a second. Filters apply to each case as it is now.

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

            click.echo(_("Watching {path}: new and changed cases as they happen; times in "
                         "{zone}; Ctrl-C to stop").format(path=store.path,
                                                         zone=zone_name(app.zone)), err=True)
        try:
            watch(store, query, show=click.echo, bell=bell, as_json=as_json, zone=app.zone,
                  width=width, last=last, deadlines=app.deadlines, now=app.clock.now)
        except KeyboardInterrupt:
            click.echo(_("stopped"), err=True)


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
        merged = store.desk.merge(original, others, operator=operator_name(as_name),
                                  notices=field_notices(app), note=note)
    click.echo(ngettext("{count} marked duplicate of {original}: {tickets}",
                        "{count} marked duplicate of {original}: {tickets}", len(merged))
               .format(count=len(merged), original=merged[0].duplicate_of,
                       tickets=", ".join(c.ticket for c in merged)))


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
        raise InvalidInput(_("the report text is empty"))
    add_case(app, NewCase(reporter=number, text=body, channel=channel),
             operator=operator_name(as_name))


@cases_group.command("reply")
@click.argument("ticket")
@click.argument("message", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="Say what it would cost; queue nothing.")
@click.option("--yes", is_flag=True, help="Queue a reply of more than one SMS.")
@as_option
@pass_app
@handle_errors
def cases_reply(app: AppContext, ticket: str, message: tuple[str, ...], dry_run: bool,
                yes: bool, as_name: str | None) -> None:
    """Queue an SMS to the case's reporter; the daemon sends it.

    Says how many SMS it costs: 160 plain characters fit one; a longer text goes in
    parts of 153, and a letter outside the GSM alphabet (an emoji) makes parts of 70
    and 67. A reply of more than one SMS is queued only with --yes. `cases show` lists
    it with its delivery state.

    \b
    Examples:
        smsbridge cases reply LP-000042 "Petugas sedang menuju lokasi. Terima kasih."
        smsbridge cases reply LP-000042 --dry-run "Mohon kirim lokasi lebih rinci."
    """
    from smsbridge.replies import operator_reply_text
    from smsbridge.sms.pdu import fits_gsm7, parts_needed

    body = operator_reply_text(" ".join(message))
    parts = parts_needed(body)
    if fits_gsm7(body):
        cost = ngettext("{chars} characters: {parts} SMS", "{chars} characters: {parts} SMS",
                        len(body)).format(chars=len(body), parts=parts)
    else:
        cost = ngettext("{chars} characters, letters outside the GSM alphabet: 70 a part: "
                        "{parts} SMS", "{chars} characters, letters outside the GSM alphabet: "
                        "70 a part: {parts} SMS", len(body)).format(chars=len(body), parts=parts)
    if dry_run:
        click.echo(cost)
        return
    if parts > 1 and not yes:
        raise InvalidInput(_("this reply is {cost}; add --yes to queue it, or shorten it")
                           .format(cost=cost))
    with open_store(app, migrate=True) as store:
        case = store.cases.get(ticket)
        item = store.outbox.add_reply(
            ticket, body, operator=operator_name(as_name),
            short_code_max_digits=app.config.abuse.short_code_max_digits)
    click.echo(_("{ticket}: reply queued (outbox #{id}, {cost}); the daemon will send it")
               .format(ticket=case.ticket, id=item.id, cost=cost))


# --- the field loop (docs/officers.md) ---------------------------------------------


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
