"""``smsbridge messages``: SMS as they arrived, including those that are nobody's case."""

from __future__ import annotations

import click

from smsbridge.cli import AppContext, handle_errors, main, operator_name, pass_app
from smsbridge.cli.case_options import as_option


@main.command("messages")
@click.option("--all", "show_all", is_flag=True,
              help="Every message, not only those that belong to no case.")
@click.option("--kind", type=click.Choice(["deliver", "status_report", "undecodable"]),
              help="Only this kind of message.")
@click.option("--sender", metavar="SENDER", help="Only from this sender (e.g. TELKOMSEL).")
@click.option("--limit", type=click.IntRange(min=0, max=10**9), default=20, show_default=True,
              help="At most N messages, newest first (0: all).")
@as_option
@pass_app
@handle_errors
def messages_command(app: AppContext, show_all: bool, kind: str | None, sender: str | None,
                     limit: int, as_name: str | None) -> None:
    """Incoming SMS that made no case: the operator's notices (SIM credit, promotions),
    short codes, blocklisted numbers, CEK queries, delivery reports.

    Numbers of people are masked; texts are shown with control characters made visible.
    Looking up a person's number with --sender is recorded in the audit log with your
    name and login, even when nothing matched.

    \b
    Example:
        smsbridge messages --sender TELKOMSEL --limit 5
    """
    import shutil

    from smsbridge.cli.output import desk_time, fit, message_kind, times_in
    from smsbridge.i18n import _
    from smsbridge.numbers import normalize
    from smsbridge.privacy import mask_number, neutralise
    from smsbridge.store import Store

    cfg = app.config
    operator = operator_name(as_name)
    store = Store.from_config(cfg, create=False, clock=app.clock)
    try:
        who = normalize(sender, cfg.daemon.country_code) if sender else None
        messages = store.inbox.lookup(operator=operator, without_case=not show_all, kind=kind,
                                      sender=who, limit=limit or None)
    finally:
        store.close()
    if not messages:
        click.echo(_("no messages"))
        return
    width = max(shutil.get_terminal_size((80, 24)).columns, 40)
    for m in messages:
        kind = message_kind(m.kind)
        what = kind if m.error is None else f"{kind}: {m.error}"
        case = " " + _("case {number}").format(number=m.case_id) if m.case_id else ""
        # A sender's name is chosen by the sender: neutralised like any text of theirs.
        sender_shown = neutralise(mask_number(m.sender)) or "-"
        click.echo(fit(f"{desk_time(m.received_at, zone=app.zone)}  {sender_shown:<16} "
                       f"{neutralise(what)}{case}", width).rstrip())
        if m.text:
            click.echo("    " + neutralise(m.text))
    click.echo(times_in(app.zone), err=True)
