"""``smsbridge cases dispatch`` and ``cases answers``: the desk's side of the field loop
(cases_cmd.py puts them in the ``cases`` group).

A case goes to an officer (or a team) by SMS with a one-time code; what officers answer
comes back through the daemon and is listed here, accepted or refused and why.
"""

from __future__ import annotations

import shutil
import sys

import click

from smsbridge.cli import AppContext, Command, handle_errors, operator_name, pass_app
from smsbridge.cli.case_options import as_option, open_store
from smsbridge.errors import InvalidInput
from smsbridge.i18n import _, ngettext


@click.command("dispatch", cls=Command)
@click.argument("tickets", nargs=-1, required=True)
@click.option("--to", "to", required=True, metavar="NAME|TEAM",
              help="An officer's name, or a team's: each of its officers gets the SMS.")
@click.option("--note", metavar="TEXT", help="A line for the officer (at most 100 characters).")
@click.option("--yes", "-y", is_flag=True, help="Queue it without asking (for scripts).")
@click.option("--edit", "edit_text", is_flag=True,
              help="Correct the SMS in $EDITOR before it is queued.")
@as_option
@pass_app
@handle_errors
def cases_dispatch(app: AppContext, tickets: tuple[str, ...], to: str, note: str | None,
                   yes: bool, edit_text: bool, as_name: str | None) -> None:
    """Send a case to an officer (or a team) by SMS, to check on the spot.

    The SMS holds the ticket, category, place, the report's words (shortened so the
    whole fits two SMS) and the note, never the reporter's number or name: anything
    shaped like a phone number, and a name the reporter gives as theirs, is removed
    from all of it. On a terminal the SMS is shown and queued only when you say yes
    (--yes: without asking); --edit opens it in $EDITOR first, and what you write is
    scrubbed the same way. Each officer's copy carries its own one-time code where the
    SMS shows ####. The case is assigned to them and, when new, moves to checking. The
    officer answers by SMS (docs/officers.md); `cases show` follows the SMS, the
    answer and the reporter's notice.
    Several TICKETS (or - for those on stdin) go out together, one SMS each, all or
    none, after one question.

    \b
    Examples:
        smsbridge cases dispatch LP-000042 --to budi
        smsbridge cases dispatch LP-000042 --to buser-1 --note "pelaku 10 orang, hati-hati"
        smsbridge cases dispatch LP-000042 LP-000043 --to buser-1
        smsbridge cases dispatch LP-000042 --to budi --edit --yes
    """
    from smsbridge.cli import field_output
    from smsbridge.cli.desk import tickets_from
    from smsbridge.fieldwork.answers import Roster
    from smsbridge.fieldwork.texts import CODE_SLOT, FieldTexts

    named = tickets_from(tickets)
    officers, team = Roster.from_config(app.config).resolve(to)
    texts = FieldTexts.from_config(app.config)
    with open_store(app, migrate=True, operator=operator_name(as_name)) as store:
        # The officers' numbers sealed by the daemon first, outside the transaction.
        store.db.ask_first(*(o.number for o in officers), stored=True)
        drafts = [texts.for_case(store.cases.get(ticket), note, CODE_SLOT) for ticket in named]
        if edit_text:
            if len(drafts) > 1:
                raise InvalidInput(_("--edit corrects one SMS; name one ticket"))
            edited = click.edit(drafts[0], extension=".txt")
            drafts[0] = texts.checked(edited) if edited is not None else drafts[0]
        if not yes and sys.stdin.isatty():
            click.echo(_("To {names} ({slot}: each officer's one-time code):").format(
                names=", ".join(o.name for o in officers), slot=CODE_SLOT))
            for draft in drafts:
                for line in draft.splitlines():
                    click.echo("  " + line)
            click.confirm(ngettext("Queue this SMS?", "Queue these {count} SMS?",
                                   len(drafts)).format(count=len(drafts)), abort=True)
        by_ticket = dict(zip(named, drafts, strict=True))
        done = store.desk.in_bulk(named, lambda ticket: store.field.dispatch(
            ticket, officers, team=team, note=texts.clean_note(note) or None,
            operator=operator_name(as_name),
            compose=lambda _case, code: by_ticket[ticket].replace(CODE_SLOT, code)))
    for (case, records), draft in zip(done, drafts, strict=True):
        for line in field_output.dispatched_text(case, records, draft):
            click.echo(line)


@click.command("answers", cls=Command)
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
    for line in field_output.answers_text(answers, zone=app.zone,
                                          width=shutil.get_terminal_size((80, 24)).columns):
        click.echo(line)
    click.echo(output.times_in(app.zone) if answers else _("(no answers yet)"), err=True)
