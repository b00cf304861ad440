"""``smsbridge outbox …``: the SMS the line sends, and what an operator can do about one
that waits or failed. Each change is recorded in the case's history with the operator."""

from __future__ import annotations

import click

from smsbridge.cli import AppContext, handle_errors, main, operator_name, pass_app
from smsbridge.cli.case_options import as_option, open_store, reveal_option
from smsbridge.i18n import _


@main.group("outbox")
def outbox_group() -> None:
    """List the SMS the line sends; cancel one that waits, send a failed one again.

    \b
    Example:
        smsbridge outbox list --status failed --status gave-up
    """


@outbox_group.command("list")
@click.option("--status", "states", multiple=True, metavar="S",
              help="Only this state: queued, sent, delivered, failed, gave-up, cancelled "
                   "(repeat, or comma-separate).")
@click.option("--limit", type=click.IntRange(min=0, max=10**9), default=50, show_default=True,
              help="At most N SMS, newest first (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@reveal_option
@as_option
@pass_app
@handle_errors
def outbox_list(app: AppContext, states: tuple[str, ...], limit: int, as_json: bool,
                reveal: bool, as_name: str | None) -> None:
    """List the outbox, newest first: each SMS's state, case, tries and last error.

    Numbers are masked unless --reveal, which is recorded in each case's history and
    in the audit log with your name and login.

    \b
    Examples:
        smsbridge outbox list --status failed,gave-up
        smsbridge outbox list --status queued --json
    """
    import shutil

    from smsbridge.cli import output

    who = operator_name(as_name)
    wanted = tuple(s for group in states for s in group.split(",") if s.strip())
    from smsbridge.cli import reveal as revealing

    with open_store(app, operator=who) as store:
        items = store.outbox.listing(states=wanted, limit=limit or None, operator=who,
                                     reveal=revealing.locally(store, reveal))
        if reveal:
            items = revealing.outbox(store, items)
    if as_json:
        click.echo(output.to_json([output.outbox_dict(i, reveal=reveal) for i in items]))
        return
    width = shutil.get_terminal_size((80, 24)).columns
    for line in output.outbox_table(items, reveal=reveal, width=width, zone=app.zone):
        click.echo(line)
    click.echo(output.times_in(app.zone) if items else _("(no SMS match)"), err=True)


@outbox_group.command("cancel")
@click.argument("sms_id", metavar="ID", type=click.IntRange(min=1, max=2**63 - 1))
@as_option
@pass_app
@handle_errors
def outbox_cancel(app: AppContext, sms_id: int, as_name: str | None) -> None:
    """Stop a queued SMS: it is not sent. ID is the number `outbox list` shows (#12).

    An SMS the daemon is sending at that moment still goes out; the case's history
    then says so.

    \b
    Example:
        smsbridge outbox cancel 12 --as sari
    """
    who = operator_name(as_name)
    with open_store(app, migrate=True) as store:
        item = store.outbox.cancel(sms_id, operator=who)
    click.echo(_("SMS #{id}{of_case} cancelled: it will not be sent").format(
        id=item.id, of_case=_of(item.ticket)))


@outbox_group.command("retry")
@click.argument("sms_id", metavar="ID", type=click.IntRange(min=1, max=2**63 - 1))
@as_option
@pass_app
@handle_errors
def outbox_retry(app: AppContext, sms_id: int, as_name: str | None) -> None:
    """Queue a failed, given-up or cancelled SMS again, to be sent now.

    Its attempts start again from 0, so the daemon retries it as it does a new SMS;
    the case's history keeps how many it had and why it failed. An SMS to a number
    that cannot receive SMS is refused.

    \b
    Example:
        smsbridge outbox retry 12
    """
    who = operator_name(as_name)
    with open_store(app, migrate=True) as store:
        item = store.outbox.requeue(
            sms_id, operator=who, short_code_max_digits=app.config.abuse.short_code_max_digits)
    click.echo(_("SMS #{id}{of_case} queued again; the daemon will send it").format(
        id=item.id, of_case=_of(item.ticket)))


def _of(ticket: str | None) -> str:
    return f" ({ticket})" if ticket else ""
